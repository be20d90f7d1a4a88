"""Training-step and inference speed, tensorgrad vs PyTorch CPU, side by side in one process.

LeNet-5 training steps (forward, cross-entropy, backward, SGD with momentum) at batch 32, 64
and 128 and inference at batch 1000; one training step of `mnist_cnn` and `cifar_cnn` at
batch 64. Same architectures (PyTorch twins with the same parameter names), same data shapes,
float32. The two frameworks alternate in rounds with a pause between them (OpenBLAS threads
spin after each call and would slow the other: PERF_NOTES); each time is the median over
rounds of the median over repeats, and the ratio the median over rounds of the two
frameworks' speeds measured side by side (steadier on a machine whose speed drifts). glibc
malloc is tuned (`tg.tune_malloc()`) for both.

    python benchmarks/bench_train.py [--quick] [--rounds 9] [--repeats 6]

Writes benchmarks/results/bench_train.md (and bench_train.png when matplotlib is installed).
"""
from __future__ import annotations

import argparse
import datetime
import pathlib
import statistics

from common import (interleaved_rounds, machine, paired_ratio, torch_model,  # isort: skip
                    try_import_torch)  # (env first)

import numpy as np

import tensorgrad as tg
import tensorgrad.functional as F
from tensorgrad import optim
from tensorgrad.nn import models

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
# (model, input channels, side, batch, mode)
CASES = [("lenet5", 1, 28, 32, "train"), ("lenet5", 1, 28, 64, "train"),
         ("lenet5", 1, 28, 128, "train"), ("lenet5", 1, 28, 1000, "inference"),
         ("mnist_cnn", 1, 28, 64, "train"), ("cifar_cnn", 3, 32, 64, "train")]


def tensorgrad_step(name, x, y, mode):
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


def torch_step(torch, name, x, y, mode):
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


def run(cases, rounds: int, repeats: int) -> list[dict]:
    torch = try_import_torch()
    rng = np.random.default_rng(0)
    rows = []
    for name, channels, side, batch, mode in cases:
        x = rng.random((batch, channels, side, side), dtype=np.float32)
        y = rng.integers(0, 10, batch)
        candidates = {"tensorgrad": tensorgrad_step(name, x, y, mode)}
        if torch is not None:
            candidates["PyTorch"] = torch_step(torch, name, x, y, mode)
        ms = interleaved_rounds(candidates, repeats, rounds)
        row = dict(model=name, batch=batch, mode=mode, tg_ms=statistics.median(ms["tensorgrad"]),
                   torch_ms=statistics.median(ms.get("PyTorch", [float("nan")])),
                   ratio=paired_ratio(ms, "PyTorch", "tensorgrad") if torch else float("nan"))
        rows.append(row)
        print(_row(row), flush=True)
    return rows


HEADER = ("| model | batch | pass | tensorgrad ms | PyTorch ms | tensorgrad images/s | "
          "PyTorch images/s | tensorgrad / PyTorch |\n|---|---|---|---|---|---|---|---|")


def _row(r: dict) -> str:
    ips_tg, ips_torch = 1e3 * r["batch"] / r["tg_ms"], 1e3 * r["batch"] / r["torch_ms"]
    return (f"| {r['model']} | {r['batch']} | {r['mode']} | {r['tg_ms']:.2f} | {r['torch_ms']:.2f} "
            f"| {ips_tg:,.0f} | {ips_torch:,.0f} | {r['ratio']:.2f} |")


def write_results(rows: list[dict]) -> pathlib.Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "bench_train.md"
    lines = [f"Measured {datetime.date.today()} on {machine()}; float32; medians; the ratio is "
             "the median over rounds of the speeds measured side by side.", "", HEADER]
    path.write_text("\n".join(lines + [_row(r) for r in rows]) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return path
    labels = [f"{r['model']}\n{r['mode']} b{r['batch']}" for r in rows]
    pos = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar(pos - 0.2, [1e3 * r["batch"] / r["tg_ms"] for r in rows], 0.4, label="tensorgrad")
    ax.bar(pos + 0.2, [1e3 * r["batch"] / r["torch_ms"] for r in rows], 0.4, label="PyTorch CPU")
    ax.set_xticks(pos, labels, fontsize=8)
    ax.set_ylabel("images / s")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "bench_train.png", dpi=120)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="LeNet-5 at batch 64 only")
    args = parser.parse_args()
    tg.tune_malloc()
    print(f"{machine()}\n{HEADER}")
    rows = run(CASES[1:2] if args.quick else CASES, args.rounds, args.repeats)
    print(f"written to {write_results(rows)}")


if __name__ == "__main__":
    main()
