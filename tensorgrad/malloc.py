"""Keep glibc's malloc from handing big blocks back to the OS between training steps.

By default glibc serves allocations above 128 KiB-32 MiB (a dynamic threshold) with fresh
mmap()s and trims the heap on free, so every step of a NumPy training loop page-faults its
multi-MB temporaries back in: 3,100-3,600 minor faults per LeNet-5 step on our 2-core machine,
and about half the speed (see PERF_NOTES). Raising the mmap and trim thresholds makes freed
blocks stay in the process and be reused: 0 faults per step. The cost is that memory freed
by the process is returned to the OS later (up to the trim threshold), which is what a
long-running training process wants anyway.

`tensorgrad train` calls `tune_malloc()` at start; call it yourself in your own training
script (it is safe to call late and more than once). It is a no-op off glibc.
"""
from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_malloc(mmap_threshold: int = 32 << 20, trim_threshold: int = 1 << 30) -> bool:
    """Raise glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD (bytes); True when applied."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))
