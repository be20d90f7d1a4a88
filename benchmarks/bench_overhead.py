"""Per-op framework overhead: forward + backward of a chain of small elementwise ops.

With tiny tensors the arithmetic is negligible, so the time per op is what the tape costs:
recording a node, and on the way back calling its backward and accumulating. Compared with
PyTorch CPU in the same process, and with plain NumPy doing the same arithmetic forward only
(no framework at all).

    python benchmarks/bench_overhead.py [--ops 1000] [--size 16]
"""
from __future__ import annotations

import argparse
import statistics

from common import (in_process_environment, interleaved_rounds, machine,  # isort: skip
                    paired_ratio, try_import_torch)

in_process_environment()  # before NumPy loads: OpenBLAS threads sleep soon (docs/performance.md)
import numpy as np  # noqa: E402

import tensorgrad as tg  # noqa: E402


def chain(x, n_ops: int):
    """mul, add, tanh, repeated: three elementwise kinds with different backward work."""
    for i in range(n_ops):
        kind = i % 3
        x = x * 1.01 if kind == 0 else x + 0.5 if kind == 1 else x.tanh()
    return x


def numpy_chain(x: np.ndarray, n_ops: int) -> np.ndarray:
    for i in range(n_ops):
        kind = i % 3
        x = x * np.float32(1.01) if kind == 0 else x + np.float32(0.5) if kind == 1 else np.tanh(x)
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    data = np.random.default_rng(0).standard_normal(args.size).astype(np.float32)

    def tensorgrad_step():
        x = tg.tensor(data, requires_grad=True)
        chain(x, args.ops).sum().backward()

    candidates = {"tensorgrad": tensorgrad_step,
                  "numpy (forward only, no tape)": lambda: numpy_chain(data, args.ops)}
    torch = try_import_torch()
    if torch is not None:
        def torch_step():
            x = torch.tensor(data, requires_grad=True)
            chain(x, args.ops).sum().backward()
        candidates["PyTorch CPU"] = torch_step

    rounds = interleaved_rounds(candidates, args.repeats, args.rounds)
    print(f"Chain of {args.ops} elementwise ops on float32[{args.size}], forward + backward; "
          f"{machine()}; medians of {args.rounds} interleaved rounds, ratios the median of "
          "per-round ratios")
    print("| implementation | ms per chain | us per op | vs PyTorch |")
    print("|---|---|---|---|")
    for name, times in rounds.items():
        ms = statistics.median(times)
        ratio = f"{paired_ratio(rounds, name, 'PyTorch CPU'):.2f}x" if torch else "n/a"
        print(f"| {name} | {ms:.2f} | {1e3 * ms / args.ops:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
