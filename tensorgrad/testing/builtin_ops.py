"""Domains of tensorgrad's own primitives, registered for `check_op` (tests/test_registry.py
enumerates them). Inputs keep away from kinks (abs, relu at 0), poles (log, div, sqrt at 0)
and ties (maximum, max-pool), whose conventions are tested separately."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..ops import elementwise as ew
from ..ops import (activation, conv, conv_transpose, linalg, loss, movement, normalization,
                   pool, reduce)
from .registry import register_op
from .strategies import arrays, broadcastable_shapes, conv2d_configs, pool2d_configs, shapes

AWAY_FROM_ZERO = st.floats(0.2, 3) | st.floats(-3, -0.2)


@st.composite
def _distinct(draw, shape_strategy):
    """Arrays whose elements differ pairwise by >= 0.01 (no max/min ties): a shuffled ramp."""
    shape = draw(shape_strategy)
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size)))
    return (np.array(order, dtype=np.float64).reshape(shape) - size / 2) * 0.01


@st.composite
def _broadcast_pair(draw, low=-3.0, high=3.0, second=None):
    shape_a, shape_b = draw(broadcastable_shapes(2))
    b = draw(arrays(shape_b, elements=second) if second is not None else arrays(shape_b, low=low, high=high))
    return (draw(arrays(shape_a, low=low, high=high)), b), {}


@st.composite
def _separated_pair(draw):
    """Broadcastable a, b with |a - b| >= 0.5 everywhere (no maximum/minimum ties)."""
    (a, b), _ = draw(_broadcast_pair())
    b = b + 0.0
    a_full, b_full = np.broadcast_arrays(a, b)
    gap = np.abs(a_full - b_full)
    return (a, b + (7.0 if gap.size and gap.min() < 0.5 else 0.0)), {}


@st.composite
def _reduction(draw, distinct=False):
    shape = draw(shapes(min_dims=1))
    array = draw(_distinct(st.just(shape)) if distinct else arrays(shape))
    axes = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                         unique_by=lambda a: a % len(shape)))
    return (array,), {"axis": tuple(axes), "keepdims": draw(st.booleans())}


@st.composite
def _log_softmax(draw):
    array = draw(arrays(shapes(min_dims=1)))
    return (array,), {"axis": draw(st.integers(-array.ndim, array.ndim - 1))}


@st.composite
def _permute(draw):
    array = draw(arrays(shapes(min_dims=1)))
    return (array,), {"axes": tuple(draw(st.permutations(range(array.ndim))))}


@st.composite
def _expand(draw):
    small, big = draw(broadcastable_shapes(2))
    return (draw(arrays(small)),), {"shape": np.broadcast_shapes(small, big)}


@st.composite
def _reshape(draw):
    array = draw(arrays(shapes()))
    return (array,), {"shape": draw(st.sampled_from([(-1,), (1, -1), (array.size, 1)]))}


@st.composite
def _getitem(draw):
    array = draw(arrays(shapes(min_dims=2, min_side=2)))
    kind = draw(st.sampled_from(["slice", "int array", "mask"]))
    if kind == "slice":
        index = (slice(None, None, draw(st.sampled_from([-2, -1, 1, 2]))), 0)
    elif kind == "int array":
        index = np.array(draw(st.lists(st.integers(-array.shape[0], array.shape[0] - 1), min_size=1,
                                       max_size=6)))
    else:
        index = np.array(draw(st.lists(st.booleans(), min_size=array.shape[0], max_size=array.shape[0])))
    return (array,), {"index": index}


@st.composite
def _scatter(draw):
    """Values for the elements getitem's indices select, scattered into a larger shape."""
    (array,), params = draw(_getitem())
    values = draw(arrays(array[params["index"]].shape))
    return (values,), {"shape": array.shape, "index": params["index"]}


@st.composite
def _setitem(draw):
    """x[index] = value with getitem's indices (int arrays may repeat: the last write wins)
    and a value of the selection's shape or one that broadcasts to it."""
    (array,), params = draw(_getitem())
    selected = array[params["index"]].shape
    value_shape = draw(st.sampled_from([selected, (1,) + selected[1:], selected[-1:], ()]))
    return (array, draw(arrays(value_shape))), params


# equations covering a product, a batch, an outer product, a trace (repeated letter), a sum
# over a letter only one operand has, a transpose and the implicit output
_EINSUM_CASES = [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 3, 2), (2, 2, 3)]),
                 ("i,j->ij", [(3,), (2,)]), ("ii->", [(3, 3)]), ("iij->j", [(2, 2, 3)]),
                 ("ij,k->i", [(2, 3), (4,)]), ("ij->ji", [(2, 3)]), ("ij,jk", [(3, 2), (2, 3)])]


@st.composite
def _einsum(draw):
    equation, shapes_ = draw(st.sampled_from(_EINSUM_CASES))
    return tuple(draw(arrays(s)) for s in shapes_), {"equation": equation}


@st.composite
def _pad(draw):
    array = draw(arrays(shapes(min_dims=1, max_dims=3)))
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(array.ndim))
    return (array,), {"pad_width": widths, "value": draw(st.floats(-1, 1))}


@st.composite
def _cat_or_stack(draw, stack=False):
    shape = draw(shapes(min_dims=1, max_dims=3))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        part_shape = list(shape)
        if not stack:
            part_shape[axis] = draw(st.integers(1, 3))
        parts.append(draw(arrays(tuple(part_shape))))
    return tuple(parts), {"axis": axis}


@st.composite
def _matmul(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    a = (k,) if draw(st.integers(0, 4)) == 0 else batch_a + (n, k)
    b = (k,) if draw(st.integers(0, 4)) == 0 else batch_b + (k, m)
    return (draw(arrays(a)), draw(arrays(b))), {}


@st.composite
def _linear(draw):
    lead = draw(shapes(max_dims=2, max_side=3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    inputs = [draw(arrays(lead + (n_in,))), draw(arrays((n_out, n_in)))]
    if draw(st.booleans()):
        inputs.append(draw(arrays((n_out,))))
    return tuple(inputs), {}


@st.composite
def _where(draw):
    (a, b), _ = draw(_broadcast_pair())
    mask = draw(arrays(np.broadcast_shapes(a.shape, b.shape), dtype=bool))
    return (a, b), {"mask": mask}


@st.composite
def _conv2d(draw):
    config = draw(conv2d_configs())
    inputs = [draw(arrays(config["x_shape"])), draw(arrays(config["weight_shape"]))]
    if config["bias"]:
        inputs.append(draw(arrays((config["weight_shape"][0],))))
    return tuple(inputs), config["kwargs"]


@st.composite
def conv_transpose2d_inputs(draw):
    """x (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw), maybe a bias, and the keyword
    arguments, output_padding below stride or dilation."""
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(draw(st.integers(0, (d * (k - 1)) // 2)) for k, d in zip(kernel, dilation))
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    x = draw(arrays((draw(st.integers(1, 2)), cin, draw(st.integers(1, 4)),
                     draw(st.integers(1, 4)))))
    inputs = [x, draw(arrays((cin, cout // groups, *kernel)))]
    if draw(st.booleans()):
        inputs.append(draw(arrays((cout,))))
    return tuple(inputs), dict(stride=stride, padding=padding, output_padding=extra,
                               dilation=dilation, groups=groups)


@st.composite
def _pool2d(draw, distinct=False):
    config = draw(pool2d_configs())
    shape = st.just(config["x_shape"])
    return (draw(_distinct(shape) if distinct else arrays(shape)),), config["kwargs"]


@st.composite
def _batch_norm(draw):
    """x (N, C) or (N, C, ...) with more than one value per channel, each channel spread
    around +-1 (a variance well away from 0), and optional weight and bias (C,)."""
    shape = list(draw(shapes(min_dims=2, max_dims=4, max_side=3)))
    if shape[0] * int(np.prod(shape[2:])) == 1:
        shape[0] = 2
    positions = np.arange(shape[0] * int(np.prod(shape[2:]))).reshape(shape[0], 1, -1)
    signs = np.broadcast_to(1.0 - 2.0 * (positions % 2), (shape[0], shape[1], positions.shape[2]))
    x = draw(arrays(tuple(shape), low=-0.4, high=0.4)) + signs.reshape(shape)
    inputs = [x]
    for _ in range(draw(st.integers(0, 2))):
        inputs.append(draw(arrays((shape[1],), low=-2, high=2)))
    return tuple(inputs), {"eps": draw(st.sampled_from([1e-5, 1e-3, 0.1]))}


@st.composite
def _probabilities_and_targets(draw):
    """Probabilities away from 0 and 1 (where the clamps act) and targets in [0, 1]."""
    shape = draw(shapes())
    return (draw(arrays(shape, low=0.05, high=0.95)), draw(arrays(shape, low=0, high=1))), {}


def _where_op(a, b, *, mask):
    return ew.Where.apply(mask, a, b)


def register_builtin_ops() -> None:
    """Register every primitive of tensorgrad.ops with its domain."""
    for op in (ew.Neg, ew.Exp, ew.Sigmoid, ew.Tanh, ew.Sin, ew.Cos, activation.Gelu):
        register_op(op, arrays(shapes()))
    for op in (ew.Log, ew.Sqrt):
        register_op(op, arrays(shapes(), low=0.2, high=4))
    for op in (ew.Abs, ew.Relu):
        register_op(op, arrays(shapes(), elements=AWAY_FROM_ZERO))
    for op in (ew.Add, ew.Sub, ew.Mul):
        register_op(op, domain=_broadcast_pair())
    register_op(ew.Div, domain=_broadcast_pair(second=AWAY_FROM_ZERO))
    register_op(ew.Pow, domain=_broadcast_pair(low=0.5, high=2.0))
    for op in (ew.Maximum, ew.Minimum):
        register_op(op, domain=_separated_pair())
    register_op(_where_op, domain=_where(), name="Where")
    register_op(reduce.Sum, domain=_reduction())
    for op in (reduce.Max, reduce.Min):
        register_op(op, domain=_reduction(distinct=True))
    register_op(reduce.LogSoftmax, domain=_log_softmax())
    register_op(movement.Reshape, domain=_reshape())
    register_op(movement.Permute, domain=_permute())
    register_op(movement.Expand, domain=_expand())
    register_op(movement.GetItem, domain=_getitem())
    register_op(movement.Scatter, domain=_scatter())
    register_op(movement.SetItem, domain=_setitem())
    register_op(movement.Pad, domain=_pad())
    register_op(movement.Cat, domain=_cat_or_stack())
    register_op(movement.Stack, domain=_cat_or_stack(stack=True))
    register_op(linalg.MatMul, domain=_matmul())
    register_op(linalg.Linear, domain=_linear())
    register_op(linalg.Einsum, domain=_einsum())
    register_op(conv.Conv2d, domain=_conv2d())
    register_op(conv_transpose.ConvTranspose2d, domain=conv_transpose2d_inputs())
    register_op(normalization.BatchNorm, domain=_batch_norm())
    register_op(loss.BinaryCrossEntropy, domain=_probabilities_and_targets())
    register_op(pool.MaxPool2d, domain=_pool2d(distinct=True))
    register_op(pool.AvgPool2d, domain=_pool2d())
