"""Functions that create tensors: from data, filled with constants, ranges and random values.

They take PyTorch's arguments: the shape as varargs or one tuple (``zeros(2, 3)``,
``zeros((2, 3))``) or as ``size=``; ``dtype=`` (``tg.float64``, ``np.float64`` or a name);
``device=`` (only "cpu" is available, see tensorgrad/devices.py); ``requires_grad=``.
"""
from __future__ import annotations

import numpy as np

from . import _args, random
from .devices import resolve
from .dtypes import as_dtype
from .tensor import Tensor, as_array, check_numeric, get_default_dtype


def _float_dtype(dtype, op: str) -> np.dtype:
    dtype = get_default_dtype() if dtype is None else as_dtype(dtype, op)
    if dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating dtype, got {dtype}")
    return dtype


def _dtype(dtype, op: str) -> np.dtype:
    return get_default_dtype() if dtype is None else as_dtype(dtype, op)


def _shape(shape: tuple, size, op: str) -> tuple:
    """The shape from varargs (2, 3), one tuple ((2, 3),) or size=(2, 3)."""
    if size is not None:
        if shape:
            raise TypeError(f"{op}: the shape is given twice ({shape} and size={size})")
        shape = (size,)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return _args.shape(shape, op)


def _new(op: str, array: np.ndarray, device, requires_grad: bool) -> Tensor:
    resolve(device, op)
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of data. An ndarray, a NumPy scalar or a Tensor keeps its
    dtype (as ``torch.tensor`` does); Python floats get the default dtype (float32); `dtype`
    overrides both. Data that is not numbers (str, bytes, dates, records, ragged lists) is
    refused."""
    if dtype is None and isinstance(data, (np.ndarray, np.generic, Tensor)):
        array = np.array(data.data if isinstance(data, Tensor) else data, copy=True)
        check_numeric(array, data)
    else:
        array = np.array(as_array(data, dtype), copy=True)
    return _new("tensor", array, device, requires_grad)


def from_numpy(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    """Wrap an ndarray without copying, keeping its dtype."""
    return Tensor(np.asarray(array), requires_grad=requires_grad)


def zeros(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new("zeros", np.zeros(_shape(shape, size, "zeros"), _dtype(dtype, "zeros")), device,
                requires_grad)


def ones(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new("ones", np.ones(_shape(shape, size, "ones"), _dtype(dtype, "ones")), device,
                requires_grad)


def empty(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """PyTorch's uninitialised tensor; tensorgrad fills it with zeros (never stale memory)."""
    return _new("empty", np.zeros(_shape(shape, size, "empty"), _dtype(dtype, "empty")), device,
                requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape `size` filled with fill_value (default dtype for a float value)."""
    shape = _shape((size,), None, "full")
    value = as_array(fill_value, None if dtype is None else as_dtype(dtype, "full"))
    return _new("full", np.full(shape, value), device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, end): int64 for integer arguments."""
    if step == 0:
        raise ValueError(f"arange: step must not be zero (start {start}, end {end})")
    return _new("arange", as_array(np.arange(start, end, step), dtype), device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end, both included (default float dtype)."""
    array = np.linspace(start, end, int(steps), dtype=_float_dtype(dtype, "linspace"))
    return _new("linspace", array, device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The (n, m) identity matrix (m defaults to n)."""
    n, m = _args.shape((n, n if m is None else m), "eye")
    return _new("eye", np.eye(n, m, dtype=_dtype(dtype, "eye")), device, requires_grad)


def randn(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the global generator (see `manual_seed`)."""
    dtype = _float_dtype(dtype, "randn")
    samples = random.generator().standard_normal(_shape(shape, size, "randn"), dtype=dtype)
    return _new("randn", samples, device, requires_grad)


def rand(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the global generator (see `manual_seed`)."""
    dtype = _float_dtype(dtype, "rand")
    samples = random.generator().random(_shape(shape, size, "rand"), dtype=dtype)
    return _new("rand", samples, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high) (the global generator), as PyTorch's
    ``randint(high, size)`` or ``randint(low, high, size)``; int64 unless dtype is given."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if size is None or high is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    dtype = np.dtype(np.int64) if dtype is None else as_dtype(dtype, "randint")
    samples = random.generator().integers(low, high, _shape((size,), None, "randint"))
    return _new("randint", samples.astype(dtype), device, requires_grad)


def randperm(n: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (the global generator); int64 unless dtype is given."""
    dtype = np.dtype(np.int64) if dtype is None else as_dtype(dtype, "randperm")
    return _new("randperm", random.generator().permutation(int(n)).astype(dtype), device,
                requires_grad)


def _like(fn, other: Tensor, dtype, device, requires_grad, **kw) -> Tensor:
    return fn(other.shape, dtype=dtype or other.dtype, device=device, requires_grad=requires_grad,
              **kw)


def zeros_like(other: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(zeros, other, dtype, device, requires_grad)


def ones_like(other: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(ones, other, dtype, device, requires_grad)


def empty_like(other: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(empty, other, dtype, device, requires_grad)


def full_like(other: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(other.shape, fill_value, dtype=dtype or other.dtype, device=device,
                requires_grad=requires_grad)


def randn_like(other: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(randn, other, dtype, device, requires_grad)


def rand_like(other: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(rand, other, dtype, device, requires_grad)
