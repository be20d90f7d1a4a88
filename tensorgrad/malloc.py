"""Keep glibc's malloc from handing big blocks back to the OS between training steps.

By default glibc serves allocations above 128 KiB-32 MiB (a dynamic threshold) with fresh
mmap()s and trims the heap on free, so every step of a NumPy training loop page-faults its
multi-MB temporaries back in: 3,100-3,700 minor faults per LeNet-5 step on our 2-core machine,
and about half the speed (see docs/performance.md). Raising the mmap and trim thresholds makes
freed blocks stay in the process and be reused: 0 faults per step. The cost is that memory
freed by the process is returned to the OS later (up to the trim threshold), which is what a
long-running training process wants anyway.

`import tensorgrad` applies `tune_malloc()` once (`tune_malloc_on_import`), so a user's own
training loop is fast with no extra line. Set the environment variable
TENSORGRAD_TUNE_MALLOC=0 (or false / no / off) before importing tensorgrad to keep glibc's
defaults; `tune_malloc()` can still be called by hand (it is safe late and more than once).
It is a no-op off glibc.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

ENV_VAR = "TENSORGRAD_TUNE_MALLOC"
_OPT_OUT = {"0", "false", "no", "off"}

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_malloc(mmap_threshold: int = 32 << 20, trim_threshold: int = 1 << 30) -> bool:
    """Raise glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD (bytes); True when applied.

    `import tensorgrad` already calls this with the defaults unless $TENSORGRAD_TUNE_MALLOC
    is 0; call it yourself for other thresholds or after opting out."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return (bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold))
            and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold)))


def tune_malloc_on_import() -> bool:
    """`tune_malloc()` unless $TENSORGRAD_TUNE_MALLOC is 0, false, no or off; True when
    applied."""
    if os.environ.get(ENV_VAR, "").strip().lower() in _OPT_OUT:
        return False
    return tune_malloc()
