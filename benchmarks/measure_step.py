"""Time one framework's training step (or inference pass) in this process, as its users run
it: the framework's default environment and threads, or one thread with --threads 1.

    python benchmarks/measure_step.py tensorgrad lenet5 64 train [--threads 1] [--seconds 1]
    python benchmarks/measure_step.py torch cifar_cnn 64 train
    python benchmarks/measure_step.py tensorgrad cifar_cnn 64 train --profile 10

Prints one JSON line: the median ms per step over at least --seconds of steps (after three
warm-up steps), the steps timed and the threads asked for. A training step is forward,
cross-entropy, backward and SGD with momentum; inference is a forward pass under no_grad in
eval mode. Synthetic data (uniform images, random labels), float32. `bench_train.py` runs
this script in a fresh process per measurement. --profile N (tensorgrad) instead prints
`tg.profile()`'s table of N steps after the warm-up: where a step's time goes, op by op.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from common import limit_numpy_to_one_thread, torch_model

# channels, side
MODELS = {"lenet5": (1, 28), "mnist_cnn": (1, 28), "cifar_cnn": (3, 32), "resnet20": (3, 32)}
WARMUP = 3
MIN_STEPS = 5


def tensorgrad_step(x, y, name: str, mode: str):
    import tensorgrad as tg
    import tensorgrad.functional as F
    from tensorgrad import optim
    from tensorgrad.nn import models

    model = getattr(models, name)(in_channels=x.shape[1])
    xt, yt = tg.tensor(x), tg.tensor(y)
    if mode == "inference":
        model.eval()
        return lambda: tg.no_grad()(model)(xt)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(xt), yt).backward()
        opt.step()
    return step


def torch_step(x, y, name: str, mode: str, threads: int | None):
    import torch

    if threads:
        torch.set_num_threads(threads)
    model = torch_model(torch, name, x.shape[1], 10, x[0].size)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    if mode == "inference":
        model.eval()

        def infer():
            with torch.no_grad():
                model(xt)
        return infer
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    return step


def median_step_ms(step, seconds: float) -> tuple[float, int]:
    """(median ms, steps timed) over at least `seconds` and MIN_STEPS steps."""
    for _ in range(WARMUP):
        step()
    times, end = [], time.perf_counter() + seconds
    while len(times) < MIN_STEPS or time.perf_counter() < end:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times), len(times)


def profile_steps(step, steps: int):
    """tg.profile() of `steps` steps, after the warm-up."""
    import tensorgrad as tg

    for _ in range(WARMUP):
        step()
    with tg.profile() as prof:
        for _ in range(steps):
            step()
    return prof


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=["tensorgrad", "torch"])
    parser.add_argument("model", choices=list(MODELS))
    parser.add_argument("batch", type=int)
    parser.add_argument("mode", choices=["train", "inference"])
    parser.add_argument("--threads", type=int, choices=[1],
                        help="1: one thread (default: the framework's default)")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--profile", type=int, metavar="STEPS",
                        help="tensorgrad: print tg.profile()'s table of STEPS steps instead")
    args = parser.parse_args()
    if args.profile and args.framework != "tensorgrad":
        parser.error("--profile profiles tensorgrad (PyTorch has torch.profiler)")
    if args.threads and args.framework == "tensorgrad":
        limit_numpy_to_one_thread()  # before NumPy loads, as a user would
    import numpy as np

    channels, side = MODELS[args.model]
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, channels, side, side), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)
    step = tensorgrad_step(x, y, args.model, args.mode) if args.framework == "tensorgrad" \
        else torch_step(x, y, args.model, args.mode, args.threads)
    if args.profile:
        print(profile_steps(step, args.profile))
        return
    ms, steps = median_step_ms(step, args.seconds)
    print(json.dumps({"ms": ms, "steps": steps, "threads": args.threads or "default"}))


if __name__ == "__main__":
    main()
