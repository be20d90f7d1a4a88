"""Shared benchmark plumbing: fair side-by-side timing of tensorgrad and PyTorch in one process.

Import this module before numpy or torch: OpenBLAS reads the environment it sets only when it
is loaded."""
from __future__ import annotations

import os
import platform
import statistics
import time

# Let OpenBLAS workers sleep soon after each call: spinning threads would slow torch (PERF_NOTES).
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

QUIESCE_S = 0.15


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


def interleaved_rounds(candidates: dict, repeats: int, rounds: int = 3) -> dict:
    """Per candidate, the median ms of each round: the candidates alternate in rounds, with a
    pause between frameworks so neither runs right after the other's BLAS threads."""
    samples = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            time.sleep(QUIESCE_S)
            samples[name].append(median_ms(fn, repeats))
    return samples


def interleaved(candidates: dict, repeats: int, rounds: int = 3) -> dict:
    """Median ms per candidate over `interleaved_rounds`."""
    return {name: statistics.median(v)
            for name, v in interleaved_rounds(candidates, repeats, rounds).items()}


def paired_ratio(rounds: dict, numerator: str, denominator: str) -> float:
    """The median over rounds of numerator ms / denominator ms, each pair measured seconds
    apart: steadier than a ratio of medians when the machine's speed drifts."""
    return statistics.median(a / b for a, b in zip(rounds[numerator], rounds[denominator]))


def machine() -> str:
    """CPU model, cores and versions, for the header of a results table."""
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    torch = try_import_torch()
    versions = f"numpy {np.__version__}" + (f", PyTorch {torch.__version__}" if torch else "")
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {versions}"


def torch_model(torch, name: str, in_channels: int, num_classes: int, in_features: int):
    """The PyTorch twin of `tensorgrad.nn.models.<name>`, with the same state_dict names."""
    from collections import OrderedDict
    nn = torch.nn

    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                nn.ReLU(), nn.MaxPool2d(2)]

    if name == "lenet5":
        return nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(in_channels, 6, 5, padding=2), relu1=nn.ReLU(),
            pool1=nn.MaxPool2d(2), conv2=nn.Conv2d(6, 16, 5), relu2=nn.ReLU(),
            pool2=nn.MaxPool2d(2), flatten=nn.Flatten(), fc1=nn.Linear(400, 120),
            relu3=nn.ReLU(), fc2=nn.Linear(120, 84), relu4=nn.ReLU(),
            fc3=nn.Linear(84, num_classes)))
    if name in ("mnist_cnn", "cifar_cnn"):
        widths, hidden, p, side = ((32, 64, 64), 128, 0.25, 3) if name == "mnist_cnn" else \
            ((32, 64, 128), 256, 0.5, 4)
        return nn.Sequential(OrderedDict(
            features=nn.Sequential(*block(in_channels, widths[0]), *block(*widths[:2]),
                                   *block(*widths[1:])),
            classifier=nn.Sequential(nn.Flatten(), nn.Linear(widths[2] * side * side, hidden),
                                     nn.ReLU(), nn.Dropout(p), nn.Linear(hidden, num_classes))))
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(in_features, 256), nn.ReLU(),
                             nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, num_classes))
    raise ValueError(f"no PyTorch twin for model {name}")


def try_import_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count() or 1)
    return torch
