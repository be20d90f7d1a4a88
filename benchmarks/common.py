"""Shared benchmark plumbing.

Framework against framework (`bench_train.py`, `compare_torch_training.py`): each
measurement runs in its own fresh Python process (`fresh_process`, `Worker`) with a copy of
the user's environment and the framework's default threads, the two frameworks alternating
A B A B over several pairs; a ratio is the median of the per-pair ratios, shown with their
min-max (`paired`). Nothing is set for one framework that could slow the other: NumPy's
OpenBLAS threads and PyTorch's OpenMP threads never share a process. The one-thread
("per core") measurements limit each framework the way its users would: OPENBLAS_NUM_THREADS
and OMP_NUM_THREADS set to 1 before NumPy loads, and `torch.set_num_threads(1)`.

Kernel against kernel in one process (`bench_conv.py`, `bench_overhead.py`):
`in_process_environment`, `median_ms`, `interleaved_rounds`, `paired_ratio`. These show
where time goes op by op; the published speed comparison is `bench_train.py`.

This module imports neither NumPy nor PyTorch at load time.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time

QUIESCE_S = 0.15
ONE_THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


# ---------------------------------------------------------------- one framework per process

def limit_numpy_to_one_thread() -> None:
    """Make NumPy's BLAS single-threaded, as a user would: through the environment, before
    NumPy is loaded."""
    if "numpy" in sys.modules:
        raise RuntimeError("limit_numpy_to_one_thread: numpy is already loaded")
    for name in ONE_THREAD_ENV:
        os.environ[name] = "1"


def fresh_process(script: str, args: list, timeout: float = 600) -> dict:
    """Run `python script *args` in a new process with a copy of this one's environment and
    return the JSON object it prints on its last line of output."""
    result = subprocess.run([sys.executable, script, *map(str, args)], env=dict(os.environ),
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode:
        raise RuntimeError(f"{script} {' '.join(map(str, args))} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class Worker:
    """A fresh process running `python script *args` that answers requests: each `ask`
    writes one line to its stdin and reads one JSON line from its stdout. Between requests
    it sleeps, so two workers can take turns without sharing a process."""

    def __init__(self, script: str, args: list):
        self.process = subprocess.Popen([sys.executable, script, *map(str, args)],
                                        env=dict(os.environ), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def ask(self, request: str = "next") -> dict:
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.process.args} ended (exit {self.process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        self.process.wait()


def serve(handle) -> None:
    """The worker side of `Worker`: answer each stdin line with handle(line) as one JSON
    line (the process's real stdout; anything else printed goes to stderr)."""
    out, sys.stdout = sys.stdout, sys.stderr
    for line in sys.stdin:
        out.write(json.dumps(handle(line.strip())) + "\n")
        out.flush()


def paired(a: list, b: list) -> tuple[float, float, float]:
    """(median, min, max) of the per-pair ratios a[i] / b[i]."""
    ratios = [x / y for x, y in zip(a, b)]
    return statistics.median(ratios), min(ratios), max(ratios)


# ---------------------------------------------------------------- kernels in one process

def in_process_environment() -> None:
    """For in-process kernel comparisons only: OpenBLAS workers sleep soon after each call,
    so spinning NumPy threads do not slow the PyTorch call that follows (docs/performance.md).
    Call before NumPy loads. Never used for `bench_train.py`'s numbers."""
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")


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


def paired_ratio(rounds: dict, numerator: str, denominator: str) -> float:
    """The median over rounds of numerator ms / denominator ms, each pair measured seconds
    apart: steadier than a ratio of medians when the machine's speed drifts."""
    return statistics.median(a / b for a, b in zip(rounds[numerator], rounds[denominator]))


# ---------------------------------------------------------------- reporting

def version(package: str) -> str | None:
    """An installed package's version, without importing it (None when absent)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine() -> str:
    """CPU model, cores and versions, for the header of a results table."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = f"numpy {version('numpy')}"
    if version("torch"):
        versions += f", PyTorch {version('torch')}"
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {versions}"


def load_average() -> str:
    """The 1-minute load average, or '?' where the OS does not tell."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


# ---------------------------------------------------------------- PyTorch twins

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
    if name.startswith("resnet"):
        from torch_resnets import resnet
        return resnet(name, num_classes, in_channels)
    raise ValueError(f"no PyTorch twin for model {name}")


def try_import_torch():
    """torch at its default threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch
