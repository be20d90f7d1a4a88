"""Hypothesis strategies for property tests of ops: shapes, broadcastable shape tuples,
arrays, tensors, and conv2d / pool2d geometries. Needs hypothesis (the `dev` extra)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

__all__ = ["shapes", "broadcastable_shapes", "arrays", "tensors"]


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
