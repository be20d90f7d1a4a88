"""Functions that create tensors: from data, filled with constants, ranges and random values."""
from __future__ import annotations

import numpy as np

from . import random
from .tensor import Tensor, as_array, get_default_dtype


def _float_dtype(dtype, op: str) -> np.dtype:
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating dtype, got {dtype}")
    return dtype


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of data. Float data gets the default dtype (float32)
    unless `dtype` is given; `dtype` accepts anything `np.dtype` accepts."""
    array = np.array(as_array(data, dtype), copy=True)
    return Tensor(array, requires_grad=requires_grad)


def from_numpy(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    """Wrap an ndarray without copying, keeping its dtype."""
    return Tensor(np.asarray(array), requires_grad=requires_grad)


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype=dtype or get_default_dtype()), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype=dtype or get_default_dtype()), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of `shape` filled with fill_value (default dtype for a float value)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return Tensor(np.full(shape, as_array(fill_value, dtype)), requires_grad)


def arange(start, stop=None, step=1, dtype=None) -> Tensor:
    """Evenly spaced values in [start, stop): int64 for integer arguments."""
    return Tensor(as_array(np.arange(start, stop, step), dtype))


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.eye(n, m, dtype=dtype or get_default_dtype()), requires_grad)


def randn(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the global generator (see `manual_seed`)."""
    dtype = _float_dtype(dtype, "randn")
    return Tensor(random.generator().standard_normal(_shape(shape), dtype=dtype), requires_grad)


def rand(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the global generator (see `manual_seed`)."""
    dtype = _float_dtype(dtype, "rand")
    return Tensor(random.generator().random(_shape(shape), dtype=dtype), requires_grad)


def _like(fn, other: Tensor, dtype, requires_grad, **kw) -> Tensor:
    return fn(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad, **kw)


def zeros_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(zeros, other, dtype, requires_grad)


def ones_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(ones, other, dtype, requires_grad)


def full_like(other: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return full(other.shape, fill_value, dtype=dtype or other.dtype, requires_grad=requires_grad)


def randn_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(randn, other, dtype, requires_grad)


def rand_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _like(rand, other, dtype, requires_grad)
