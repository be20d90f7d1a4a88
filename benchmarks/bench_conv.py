"""conv2d and max_pool2d, forward and forward+backward: tensorgrad vs PyTorch CPU, float32.

Shapes are the convolution layers of LeNet-5 on MNIST and of a small CIFAR-10 CNN, and a 2x2
max-pool. The two frameworks run interleaved in one process (medians of several repeats,
a pause between frameworks so OpenBLAS threads quiesce, see docs/performance.md), with
glibc's malloc told to keep its big blocks (docs/performance.md: mallopt through ctypes).

    python benchmarks/bench_conv.py [--repeats 10] [--rounds 5]

Both frameworks use OPENBLAS_NUM_THREADS threads when it is set (else all cores): on a busy
machine, OPENBLAS_NUM_THREADS=1 gives steadier numbers. This is a kernel-level view of where
time goes; the speed comparison of whole training steps, each framework in its own process at
its defaults, is `bench_train.py`.
"""
from __future__ import annotations

import argparse
import os
import statistics

from common import (in_process_environment, interleaved_rounds, machine,  # isort: skip
                    paired_ratio, try_import_torch)

in_process_environment()  # before NumPy loads: OpenBLAS threads sleep soon (docs/performance.md)
import numpy as np  # noqa: E402

import tensorgrad as tg  # noqa: E402
from tensorgrad.ops.conv import conv2d  # noqa: E402
from tensorgrad.ops.pool import max_pool2d  # noqa: E402

# name, (N, C, H, W), (K, kh, kw), padding, whether the input needs a gradient
CONVS = [
    ("LeNet c1", (64, 1, 28, 28), (6, 5, 5), 2, False),
    ("LeNet c2", (64, 6, 14, 14), (16, 5, 5), 0, True),
    ("CIFAR c1", (64, 3, 32, 32), (32, 3, 3), 1, True),
    ("CIFAR c2", (64, 32, 16, 16), (64, 3, 3), 1, True),
]
POOL = ("max-pool 2x2", (64, 32, 32, 32), 2)


def _runners(lib, fn, arrays, upstream, needs_grad):
    """(forward-only, forward+backward) closures for one framework."""
    if lib is tg:
        leaves = [tg.Tensor(a, requires_grad=r) for a, r in zip(arrays, needs_grad)]
        grad = upstream

        def forward():
            with tg.no_grad():
                fn(*leaves)
    else:
        leaves = [lib.from_numpy(a).requires_grad_(r) for a, r in zip(arrays, needs_grad)]
        grad = lib.from_numpy(upstream)

        def forward():
            with lib.no_grad():
                fn(*leaves)

    def forward_backward():
        for t in leaves:
            t.grad = None
        fn(*leaves).backward(grad)

    return forward, forward_backward


def cases(torch):
    """(name, {framework: fn}, input arrays, which inputs need a gradient) per shape."""
    rng = np.random.default_rng(0)
    for name, xshape, (k, kh, kw), pad, x_grad in CONVS:
        arrays = [rng.standard_normal(xshape, dtype=np.float32),
                  rng.standard_normal((k, xshape[1], kh, kw), dtype=np.float32) * 0.1,
                  rng.standard_normal(k, dtype=np.float32)]
        fns = {"tensorgrad": lambda x, w, b, p=pad: conv2d(x, w, b, padding=p)}
        if torch:
            fns["torch"] = lambda x, w, b, p=pad: torch.nn.functional.conv2d(x, w, b, padding=p)
        yield name, fns, arrays, [x_grad, True, True]
    name, xshape, size = POOL
    fns = {"tensorgrad": lambda x: max_pool2d(x, size)}
    if torch:
        fns["torch"] = lambda x: torch.nn.functional.max_pool2d(x, size)
    yield name, fns, [rng.standard_normal(xshape, dtype=np.float32)], [True]


def _row(name: str, fwd: dict, both: dict) -> str:
    """One Markdown table row from per-round times: medians per framework and the median of
    the per-round tensorgrad / torch ratios."""
    cells = [name]
    for rounds in (fwd, both):
        ours = statistics.median(rounds["tensorgrad"])
        cells += [f"{ours:.2f}", "-", "-"] if "torch" not in rounds else [
            f"{ours:.2f}", f"{statistics.median(rounds['torch']):.2f}",
            f"{paired_ratio(rounds, 'tensorgrad', 'torch'):.2f}"]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per median")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    args = parser.parse_args()
    malloc = tg.tune_malloc()
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1))
    torch = try_import_torch()
    if torch:
        torch.set_num_threads(threads)
    print(f"# conv2d / max_pool2d, float32, ms (median of {args.rounds} interleaved rounds x "
          f"{args.repeats} repeats)\n")
    print(f"{machine()}; {threads} BLAS thread(s) per framework; torch "
          f"{torch.__version__ if torch else 'not installed'}; glibc malloc tuned via mallopt "
          f"(M_MMAP_THRESHOLD 32 MiB, M_TRIM_THRESHOLD 1 GiB): {'yes' if malloc else 'no'}; "
          f"load average at start {os.getloadavg()[0]:.1f}\n")
    print("| op | tensorgrad fwd | torch fwd | ratio | tensorgrad fwd+bwd | torch fwd+bwd "
          "| ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, fns, arrays, needs_grad in cases(torch):
        with tg.no_grad():
            shape = fns["tensorgrad"](*map(tg.Tensor, arrays)).shape
        upstream = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        runners = {lib: _runners(tg if lib == "tensorgrad" else torch, fn, arrays, upstream,
                                 needs_grad) for lib, fn in fns.items()}
        fwd = interleaved_rounds({lib: r[0] for lib, r in runners.items()}, args.repeats,
                                 args.rounds)
        both = interleaved_rounds({lib: r[1] for lib, r in runners.items()}, args.repeats,
                                  args.rounds)
        print(_row(name, fwd, both))
    print(f"\nratio = tensorgrad / torch (lower is better), the median over rounds of the "
          f"two measured side by side. LeNet c1 computes no input gradient "
          f"(a first layer, as in training). Load average at end {os.getloadavg()[0]:.1f}.")


if __name__ == "__main__":
    main()
