"""LeNet-5 MNIST training written the PyTorch way (a map-style dataset with per-item
`ToTensor`, `DataLoader`) against the array fast path (the dataset's arrays batched by one
fancy index): training images/s, data loading included.

Each configuration runs in its own fresh process (import, load MNIST, 20 warm-up steps, then
`--steps` timed SGD steps at batch 64 with shuffling). A round runs every configuration once,
alternating; a ratio is the median over rounds of the two speeds measured in the same round,
with the smallest and largest round's ratio beside it. Configurations:

- fast path: `DataLoader(MNIST(), 64, shuffle=True)` (uint8 arrays gathered and scaled per batch)
- PyTorch way: `DataLoader(MNIST(transform=ToTensor()), 64, shuffle=True)`
- fast path + Normalize: the loader's batch `transform=Normalize(...)`
- PyTorch way + Normalize: `transform=Compose([ToTensor(), Normalize(...)])` per item
- item by item + Normalize: the same pipeline with a `Lambda` identity appended, which has
  no batch form, so every sample is transformed on its own (the general per-item path)

    python benchmarks/bench_pipeline.py [--rounds 5] [--steps 200]

Needs the MNIST files ($TENSORGRAD_DATA or the cache). Writes benchmarks/results/bench_pipeline.md.
"""
from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import statistics
import subprocess
import sys

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
ROOT = pathlib.Path(__file__).resolve().parent.parent
MEAN, STD = (0.1307,), (0.3081,)
CONFIGS = ["fast path", "PyTorch way", "fast path + Normalize", "PyTorch way + Normalize",
           "item by item + Normalize"]
RATIOS = [("PyTorch way", "fast path"), ("PyTorch way + Normalize", "fast path + Normalize"),
          ("item by item + Normalize", "fast path + Normalize")]


def loader_for(config: str):
    from tensorgrad.data import MNIST, transforms as T
    from tensorgrad.utils.data import DataLoader
    if config == "fast path":
        return DataLoader(MNIST(train=True), batch_size=64, shuffle=True)
    if config == "fast path + Normalize":
        return DataLoader(MNIST(train=True), batch_size=64, shuffle=True,
                          transform=T.Normalize(MEAN, STD))
    steps = [T.ToTensor()] + ([T.Normalize(MEAN, STD)] if "Normalize" in config else [])
    if config.startswith("item by item"):
        steps.append(T.Lambda(lambda image: image))
    return DataLoader(MNIST(train=True, transform=T.Compose(steps)), batch_size=64,
                      shuffle=True)


def run(config: str, steps: int) -> float:
    """Training images/s of one configuration (this process)."""
    import time

    import tensorgrad as tg
    import tensorgrad.functional as F
    from tensorgrad import optim
    from tensorgrad.nn import models
    tg.manual_seed(0)
    model = models.lenet5()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batches = iter(loader_for(config))
    warmup, images = 20, 0
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        x, y = next(batches)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        images += len(y) if step >= warmup else 0
    return images / (time.perf_counter() - start)


def measure(config: str, steps: int) -> float:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    out = subprocess.run([sys.executable, __file__, "--run", config, "--steps", str(steps)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--run", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(run(args.run, args.steps))
        return
    speeds = {config: [] for config in CONFIGS}
    for r in range(args.rounds):
        order = CONFIGS if r % 2 == 0 else CONFIGS[::-1]
        for config in order:
            speeds[config].append(measure(config, args.steps))
        print(f"round {r + 1}: " + ", ".join(f"{c} {speeds[c][-1]:,.0f}" for c in CONFIGS),
              flush=True)
    write_table(speeds, args)


def write_table(speeds: dict, args) -> None:
    import numpy as np
    lines = [f"# Data pipeline: LeNet-5 MNIST training, images/s (data loading included)", "",
             f"{datetime.date.today()}; {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy "
             f"{np.__version__}. Batch 64, shuffled; {args.steps} timed steps after 20 warm-up "
             f"steps, each configuration in its own fresh process, {args.rounds} alternating "
             f"rounds. Command: `python benchmarks/bench_pipeline.py --rounds {args.rounds} "
             f"--steps {args.steps}`.", "",
             "| configuration | images/s (median) | min - max |", "|---|---|---|"]
    for config in CONFIGS:
        v = speeds[config]
        lines.append(f"| {config} | {statistics.median(v):,.0f} | {min(v):,.0f} - {max(v):,.0f} |")
    lines += ["", "| ratio (same round) | median | min - max |", "|---|---|---|"]
    for a, b in RATIOS:
        ratios = [x / y for x, y in zip(speeds[a], speeds[b])]
        lines.append(f"| {a} / {b} | {statistics.median(ratios):.2f} | "
                     f"{min(ratios):.2f} - {max(ratios):.2f} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_pipeline.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
