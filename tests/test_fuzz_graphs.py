"""Property-based fuzz: random expression graphs (random ops, shapes and reuse of nodes) must
pass gradcheck as a whole. Run longer with HYPOTHESIS_PROFILE=fuzz."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from helpers import tg64
from tensorgrad.testing import gradcheck
from tensorgrad.testing import strategies as tst

# Smooth ops only (no kinks), each defined for any real input so random chains stay valid.
UNARY = {
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "square": lambda x: x * x,
    "scale": lambda x: x * -0.7 + 0.3,
    "softplus-ish": lambda x: (x.exp() + 1.0).log(),
    "sqrt(1+x^2)": lambda x: (x * x + 1.0).sqrt(),
    "softmax": lambda x: x.softmax(-1) if x.ndim else x,
    "sum-keepdims": lambda x: x.sum(-1, keepdims=True) if x.ndim else x,
    "mean-axis0": lambda x: x.mean(0) if x.ndim else x,
    "transpose": lambda x: x.T,
    "flip": lambda x: x[::-1] if x.ndim else x,
    "pad": lambda x: x.pad(1, value=0.5),
    "logsumexp": lambda x: x.logsumexp(-1) if x.ndim else x,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div-safe": lambda a, b: a / (b * b + 1.0),
}


ONCE_DIFFERENTIABLE = {"flip", "pad"}  # GetItem and Pad have ndarray-only backwards


@st.composite
def graphs(draw, unary=tuple(sorted(UNARY))):
    """A list of leaf arrays (mutually broadcastable shapes) and a program: steps that apply
    a unary op to, or combine, earlier nodes (any earlier node: reuse is frequent)."""
    shapes = draw(tst.broadcastable_shapes(draw(st.integers(1, 3)), max_dims=3, max_side=4))
    leaves = [draw(tst.arrays(s, low=-2, high=2)) for s in shapes]
    steps = []
    for _ in range(draw(st.integers(1, 10))):
        if draw(st.booleans()):
            steps.append(("unary", draw(st.sampled_from(unary)), draw(st.integers(0, 99))))
        else:
            steps.append(("binary", draw(st.sampled_from(sorted(BINARY))),
                          draw(st.integers(0, 99)), draw(st.integers(0, 99))))
    return leaves, steps


def run_program(steps, *leaves):
    nodes = list(leaves)
    for step in steps:
        try:
            if step[0] == "unary":
                nodes.append(UNARY[step[1]](nodes[step[2] % len(nodes)]))
            else:
                nodes.append(BINARY[step[1]](nodes[step[2] % len(nodes)], nodes[step[3] % len(nodes)]))
        except ValueError:  # shapes no longer broadcast after a movement op: skip this step
            continue
    return sum((n.sum() for n in nodes[len(leaves):]), nodes[-1].sum() * 0.5)


@given(graphs())
def test_random_expression_graphs_pass_gradcheck(graph):
    leaves, steps = graph
    with np.errstate(over="ignore"):
        gradcheck(lambda *xs: run_program(steps, *xs), *[tg64(a) for a in leaves])


@given(graphs(unary=tuple(sorted(set(UNARY) - ONCE_DIFFERENTIABLE))))
def test_random_expression_graphs_pass_second_order_gradcheck(graph):
    leaves, steps = graph
    with np.errstate(over="ignore"):
        gradcheck(lambda *xs: run_program(steps, *xs), *[tg64(a) for a in leaves], second_order=True)
