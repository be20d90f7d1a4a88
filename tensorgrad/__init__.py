"""tensorgrad: a small, fast, trustworthy deep-learning framework on NumPy alone."""
from __future__ import annotations


from . import viz
from .anomaly import detect_anomaly
from .autograd import Context, Function, enable_grad, grad, is_grad_enabled, no_grad
from .malloc import tune_malloc, tune_malloc_on_import as _tune_malloc_on_import
from .creation import (arange, empty, empty_like, eye, from_numpy, full, full_like, linspace,
                       ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm,
                       tensor, zeros, zeros_like)
from . import cuda, return_types
from .devices import device
from .dtypes import (bool_, complex64, complex128, double, float16, float32, float64, half,
                     int8, int16, int32, int64, long, short, uint8)
from .dtypes import ALIASES as _DTYPE_ALIASES
from .profiler import profile
from .random import get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor, cat, get_default_dtype, set_default_dtype, stack, where
from . import toplevel
from .toplevel import *  # noqa: F401,F403  (tg.exp, tg.max, tg.einsum, ...: see toplevel.py)
from .toplevel import BUILTIN_NAMES as _BUILTIN_NAMES
from . import functional, nn, optim, utils  # noqa: E402  (they build on the names above)
from .serialization import load, save

# tg.float, tg.int, tg.bool and tg.max, tg.sum, ...: PyTorch's names, which would shadow
# Python's builtins in this file, and which ``from tensorgrad import *`` leaves out
globals().update(_DTYPE_ALIASES)
globals().update({name: getattr(toplevel, name) for name in _BUILTIN_NAMES})

__version__ = "0.1.0"

# glibc keeps freed blocks for reuse: no page faults per training step (opt out:
# TENSORGRAD_TUNE_MALLOC=0; see tensorgrad/malloc.py)
_tune_malloc_on_import()

__all__ = [
    "Tensor", "tensor", "from_numpy", "zeros", "ones", "full", "eye", "arange", "rand", "randn",
    "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "cat", "stack", "where",
    "no_grad", "enable_grad", "grad", "is_grad_enabled", "Function", "Context", "manual_seed",
    "get_rng_state", "set_rng_state", "set_default_dtype", "get_default_dtype",
    "empty", "empty_like", "linspace", "randint", "randperm", "device", "cuda", "return_types",
    "float16", "half", "float32", "float64", "double", "int8", "int16", "short", "int32", "int64",
    "long", "uint8", "bool_", "complex64", "complex128", *toplevel.__all__, "detect_anomaly",
    "profile", "save", "load", "functional", "nn", "optim", "viz", "tune_malloc",
]
