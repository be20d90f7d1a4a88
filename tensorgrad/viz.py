"""Export the tape of a computation to Graphviz DOT text, and render it when `dot` exists.

    print(tg.viz.to_dot(loss, params=dict(model.named_parameters())))
    tg.viz.render(loss, "step.svg")
"""
from __future__ import annotations

import shutil
import subprocess

from .autograd import recorded_inputs
from .tensor import Tensor


def _label(t: Tensor) -> str:
    shape = "x".join(map(str, t.shape)) or "scalar"
    return f"{shape} {t.dtype}"


def to_dot(root: Tensor, params: dict | None = None, name: str = "tape") -> str:
    """The graph that produced `root` as DOT text: a box per primitive call (op name, output
    shape and dtype), an ellipse per leaf (named from `params`, e.g. model.named_parameters(),
    when given), and an edge from each input to the op that used it. Needs the graph alive
    (call before backward(), or after backward(retain_graph=True))."""
    names = {id(t): n for n, t in (params or {}).items()}
    lines = [f"digraph {name} {{", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=10];']
    numbers: dict = {}  # node names n0, n1, ... in the order first met: stable across runs

    def node_name(t) -> str:
        return f"n{numbers.setdefault(id(t), len(numbers))}"

    seen, stack = set(), [root]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        node = node_name(t)
        if t._ctx is None:
            title = names.get(id(t), "leaf" if t.requires_grad else "constant")
            style = ', style=filled, fillcolor="#d9ead3"' if t.requires_grad else ""
            lines.append(f'  {node} [shape=ellipse, label="{title}\\n{_label(t)}"{style}];')
            continue
        if t._ctx._freed:
            raise RuntimeError("to_dot: the graph was freed by backward(); call to_dot before "
                               "backward() or use backward(retain_graph=True)")
        lines.append(f'  {node} [shape=box, label="{t._ctx.fn.__name__}\\n{_label(t)}"];')
        for parent in recorded_inputs(t._ctx):  # as recorded, before any later in-place op
            if isinstance(parent, Tensor):
                lines.append(f"  {node_name(parent)} -> {node};")
                stack.append(parent)
    lines.append("}")
    return "\n".join(lines)


def render(root: Tensor, path: str, params: dict | None = None) -> str:
    """Write the graph to `path` as SVG, PNG or PDF (by extension) with Graphviz's `dot`
    program, or as DOT text for a `.dot` path. Returns the path."""
    source = to_dot(root, params)
    fmt = path.rsplit(".", 1)[-1].lower()
    if fmt in ("dot", "gv"):
        with open(path, "w") as f:
            f.write(source)
        return path
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("render: the Graphviz `dot` program is not installed (e.g. "
                           "`apt-get install graphviz`); to_dot() gives the DOT text without it")
    subprocess.run([dot, f"-T{fmt}", "-o", path], input=source.encode(), check=True)
    return path
