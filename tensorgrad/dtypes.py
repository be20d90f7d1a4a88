"""dtype objects with PyTorch's names: ``tg.float32``, ``tg.float``, ``tg.long``, ...

Each is a plain ``numpy.dtype``, so it works wherever NumPy or tensorgrad takes a dtype,
``x.dtype == tg.float32`` holds, and ``tg.float32`` is the same object as
``numpy.dtype("float32")`` compares equal to. Strings (``"float64"``) and NumPy types
(``np.float64``) are accepted wherever these are.
"""
from __future__ import annotations

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)

# tg.float, tg.int and tg.bool (PyTorch's names) would shadow the builtins here
ALIASES = {"float": float32, "int": int32, "bool": bool_}

# the names PyTorch's Tensor.type() gives each dtype
_TYPE_NAMES = {float16: "HalfTensor", float32: "FloatTensor", float64: "DoubleTensor",
               uint8: "ByteTensor", int8: "CharTensor", int16: "ShortTensor",
               int32: "IntTensor", int64: "LongTensor", bool_: "BoolTensor",
               complex64: "ComplexFloatTensor", complex128: "ComplexDoubleTensor"}


def as_dtype(dtype, op: str) -> np.dtype:
    """`dtype` (a tensorgrad/NumPy dtype, a NumPy type or a name) as an np.dtype; a clear
    error names the op when it is not one tensors can hold."""
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype; use e.g. tg.float32, tg.int64 or "
                        "'float64'") from None
    if result.kind not in "biufc" or result.fields is not None:
        raise TypeError(f"{op}: tensors hold numbers, not {result}")
    return result


def type_name(dtype: np.dtype) -> str:
    """PyTorch's tensor type name for a dtype, in tensorgrad's namespace:
    'tensorgrad.FloatTensor' for float32."""
    return "tensorgrad." + _TYPE_NAMES.get(np.dtype(dtype), f"Tensor[{dtype}]")
