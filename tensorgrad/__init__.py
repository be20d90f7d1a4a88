"""tensorgrad: a small, fast, trustworthy deep-learning framework on NumPy alone."""
from __future__ import annotations

import numpy as np

from . import viz
from .anomaly import detect_anomaly
from .autograd import Context, Function, enable_grad, grad, is_grad_enabled, no_grad
from .malloc import tune_malloc, tune_malloc_on_import as _tune_malloc_on_import
from .creation import (arange, eye, from_numpy, full, full_like, ones, ones_like, rand,
                       rand_like, randn, randn_like, tensor, zeros, zeros_like)
from .profiler import profile
from .random import get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor, cat, get_default_dtype, set_default_dtype, stack, where
from . import functional, nn, optim, utils  # noqa: E402  (they build on the names above)
from .serialization import load, save

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)

__version__ = "0.1.0"

# glibc keeps freed blocks for reuse: no page faults per training step (opt out:
# TENSORGRAD_TUNE_MALLOC=0; see tensorgrad/malloc.py)
_tune_malloc_on_import()

__all__ = [
    "Tensor", "tensor", "from_numpy", "zeros", "ones", "full", "eye", "arange", "rand", "randn",
    "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "cat", "stack", "where",
    "no_grad", "enable_grad", "grad", "is_grad_enabled", "Function", "Context", "manual_seed",
    "get_rng_state", "set_rng_state", "set_default_dtype", "get_default_dtype",
    "float32", "float64", "int64", "detect_anomaly", "profile", "save", "load",
    "functional", "nn", "optim", "viz", "tune_malloc",
]
