"""Shared benchmark plumbing: fair side-by-side timing of tensorgrad and PyTorch in one process."""
from __future__ import annotations

import os
import platform
import statistics
import time

# Let OpenBLAS workers sleep soon after each call: spinning threads would slow torch (PERF_NOTES).
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

QUIESCE_S = 0.15

from tensorgrad import tune_malloc as fix_malloc  # noqa: E402,F401  (TODO: callers use tune_malloc)


def median_ms(fn, repeats: int, warmup: int = 2) -> float:
    """Median wall time of fn() in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def interleaved(candidates: dict, repeats: int, rounds: int = 3) -> dict:
    """Median ms per candidate, alternating between them in rounds with a pause between
    frameworks so neither runs right after the other's BLAS threads."""
    samples = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            time.sleep(QUIESCE_S)
            samples[name].append(median_ms(fn, repeats))
    return {name: statistics.median(v) for name, v in samples.items()}


def machine() -> str:
    import numpy as np

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, numpy {np.__version__}")


def try_import_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count() or 1)
    return torch
