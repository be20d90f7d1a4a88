"""conv2d forward+backward in training, by blocks of images or whole, tensorgrad only, float32.

The choice `tensorgrad.ops.conv` makes for recorded convolutions whose images share one
matrix product: keep all their columns (whole), or go by blocks of images whose columns take
at most TRAINING_COLUMN_BYTES and make them again in backward (blocks). Shapes: ResNet-20's
3x3 convolutions (16, 32 and 64 channels), `cifar_cnn`'s c2 and c3 and `mnist_cnn`'s, at
batch --batch (128, the CIFAR recipe's; `bench_train.py` also times 64). The settings
alternate in one process over --rounds rounds; each figure is the median over rounds of the
median of --repeats steps, in ms.

    python benchmarks/bench_conv_blocks.py [--batch 128] [--rounds 3] [--repeats 3]
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import numpy as np

import tensorgrad as tg
import tensorgrad.functional as F
from tensorgrad.ops import conv

# name, (C, H, W) of one image, output channels
SHAPES = [("ResNet-20 stage 1", (16, 32, 32), 16), ("ResNet-20 stage 2", (32, 16, 16), 32),
          ("ResNet-20 stage 3", (64, 8, 8), 64),
          ("cifar_cnn c2", (32, 16, 16), 64), ("cifar_cnn c3", (64, 8, 8), 128),
          ("mnist_cnn c2", (32, 14, 14), 64), ("mnist_cnn c3", (64, 7, 7), 64)]
# column bytes per block; None: whole (blocks off), whatever the channels
SETTINGS = {"whole": None, "blocks of 8 MiB": 2**23, "blocks of 4 MiB": 2**22,
            "blocks of 2 MiB": 2**21}


def step_ms(shape, k: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True)
    w = tg.tensor(0.1 * rng.standard_normal((k, shape[1], 3, 3), dtype=np.float32),
                  requires_grad=True)
    upstream = tg.tensor(rng.standard_normal((shape[0], k, *shape[2:]), dtype=np.float32))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        F.conv2d(x, w, padding=1).backward(upstream)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| shape | " + " | ".join(SETTINGS) + " |\n|---|" + "---|" * len(SETTINGS))
    for name, image, k in SHAPES:
        shape = (args.batch, *image)
        ms = {setting: [] for setting in SETTINGS}
        for _ in range(args.rounds):
            for setting, limit in SETTINGS.items():
                with _blocks(limit):
                    ms[setting].append(step_ms(shape, k, args.repeats))
        print(f"| {name} {shape} -> {k} | " +
              " | ".join(f"{statistics.median(v):.1f}" for v in ms.values()) + " |", flush=True)


@contextlib.contextmanager
def _blocks(limit):
    """Blocks of `limit` column bytes for any number of channels (None: whole)."""
    saved = conv.TRAINING_COLUMN_BYTES, conv.BLOCKED_MAX_CHANNELS
    conv.TRAINING_COLUMN_BYTES, conv.BLOCKED_MAX_CHANNELS = limit or 2**62, 2**62
    try:
        yield
    finally:
        conv.TRAINING_COLUMN_BYTES, conv.BLOCKED_MAX_CHANNELS = saved


if __name__ == "__main__":
    main()
