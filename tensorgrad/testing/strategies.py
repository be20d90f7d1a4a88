"""Hypothesis strategies for property tests of ops: shapes, broadcastable shape tuples,
arrays, tensors, and conv2d / pool2d geometries. Needs hypothesis (the `dev` extra)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

__all__ = ["shapes", "broadcastable_shapes", "arrays", "tensors", "conv2d_configs",
           "pool2d_configs"]


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 5):
    """Array shapes, 0-d included by default, with size-1 axes likely."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(n: int = 2, min_dims: int = 0, max_dims: int = 4, max_side: int = 5):
    """Tuples of n shapes that broadcast together (differing ranks and size-1 axes)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=max_dims,
                                             max_side=max_side).map(lambda r: r.input_shapes)


def _default_elements(dtype, low: float, high: float):
    return st.floats(low, high, allow_nan=False, allow_infinity=False,
                     width=np.dtype(dtype).itemsize * 8)


def arrays(shape, dtype="float64", elements=None, low: float = -3.0, high: float = 3.0):
    """Arrays of a shape (or a shape strategy); floats in [low, high] unless elements given."""
    dtype = np.dtype(dtype)
    if elements is None and dtype.kind == "f":
        elements = _default_elements(dtype, low, high)
    return hnp.arrays(dtype, shape, elements=elements)


def tensors(shape=None, dtype="float64", elements=None, low: float = -3.0, high: float = 3.0,
            requires_grad: bool = True):
    """Tensors (float64 and requires_grad by default, ready for gradcheck)."""
    shape = shapes() if shape is None else shape
    return arrays(shape, dtype, elements, low, high).map(
        lambda a: Tensor(a, requires_grad=requires_grad and a.dtype.kind == "f"))


def _side(draw, reach: int, pad_total: int, max_side: int) -> int:
    """An input side from 1 to max_side that the kernel's reach fits once padded."""
    return draw(st.integers(max(1, reach - pad_total), max(1, reach - pad_total, max_side)))


@st.composite
def conv2d_configs(draw, max_batch: int = 3, max_channels: int = 3, max_groups: int = 3,
                   max_kernel: int = 3, max_side: int = 9):
    """Valid conv2d geometries as dicts: "x_shape" (N, C, H, W), "weight_shape"
    (K, C/groups, kh, kw), "bias" (whether to pass one) and "kwargs" (stride, padding,
    dilation, groups for conv2d). Asymmetric choices are likely: kh != kw, (h, w) pairs that
    differ, H != W; padding is sometimes "same" (stride 1) or "valid"."""
    groups = draw(st.integers(1, max_groups))
    c, k = groups * draw(st.integers(1, max_channels)), groups * draw(st.integers(1, max_channels))
    kernel = draw(st.tuples(st.integers(1, max_kernel), st.integers(1, max_kernel)))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    reach = [d * (n - 1) + 1 for n, d in zip(kernel, dilation)]
    choices = ["pair", "valid"] + (["same"] if stride == (1, 1) else [])
    kind = draw(st.sampled_from(choices))
    if kind == "pair":
        padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
        totals = [2 * p for p in padding]
    else:
        padding = kind
        totals = [r - 1 if kind == "same" else 0 for r in reach]
    h, w = (_side(draw, r, t, max_side) for r, t in zip(reach, totals))
    return {"x_shape": (draw(st.integers(1, max_batch)), c, h, w),
            "weight_shape": (k, c // groups, *kernel), "bias": draw(st.booleans()),
            "kwargs": {"stride": stride, "padding": padding, "dilation": dilation,
                       "groups": groups}}


@st.composite
def pool2d_configs(draw, max_batch: int = 3, max_channels: int = 3, max_kernel: int = 3,
                   max_side: int = 9):
    """Valid max_pool2d / avg_pool2d geometries as dicts: "x_shape" (N, C, H, W) and "kwargs"
    (kernel_size, stride, padding; padding at most half the kernel, as PyTorch requires).
    A third of them tile the input exactly (kernel == stride, no padding, divisible sides);
    stride is sometimes left out (it then defaults to the kernel)."""
    n, c = draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels))
    kernel = draw(st.tuples(st.integers(1, max_kernel), st.integers(1, max_kernel)))
    if draw(st.integers(0, 2)) == 0:
        h, w = (k * draw(st.integers(1, max(1, max_side // k))) for k in kernel)
        return {"x_shape": (n, c, h, w), "kwargs": {"kernel_size": kernel}}
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = draw(st.tuples(*(st.integers(0, k // 2) for k in kernel)))
    h, w = (_side(draw, k, 2 * p, max_side) for k, p in zip(kernel, padding))
    return {"x_shape": (n, c, h, w),
            "kwargs": {"kernel_size": kernel, "stride": stride, "padding": padding}}
