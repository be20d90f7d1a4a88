"""tg.viz: the tape as DOT text."""
import shutil

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import viz


def test_dot_has_one_box_per_op_one_ellipse_per_leaf_and_the_edges():
    w = tg.randn(3, 4, requires_grad=True)
    x = tg.randn(2, 3)
    h = x @ w
    loss = (h * h).sum()
    dot = viz.to_dot(loss, params={"weight": w})
    assert dot.startswith("digraph tape {") and dot.endswith("}")
    assert dot.count("shape=box") == 3           # MatMul, Mul, Sum
    assert dot.count("shape=ellipse") == 2       # w (named) and x (constant)
    assert '"weight\\n3x4 float32"' in dot and '"constant\\n2x3 float32"' in dot
    assert '"MatMul\\n2x4 float32"' in dot and '"Sum\\nscalar float32"' in dot
    matmul = next(line.split()[0] for line in dot.splitlines() if "MatMul" in line)
    assert dot.count(f"{matmul} -> ") == 2       # h is used twice by Mul
    assert dot.count("->") == 5


def test_dot_after_backward_needs_retain_graph():
    x = tg.randn(2, requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="to_dot: the graph was freed"):
        viz.to_dot(y)


def test_render_writes_dot_text_and_svg_when_graphviz_exists(tmp_path):
    y = (tg.randn(2, requires_grad=True).exp()).sum()
    path = viz.render(y, str(tmp_path / "g.dot"))
    assert open(path).read() == viz.to_dot(y)
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="Graphviz `dot` program is not installed"):
            viz.render(y, str(tmp_path / "g.svg"))
    else:
        assert "<svg" in open(viz.render(y, str(tmp_path / "g.svg"))).read()
    assert np.isfinite(y.item())
