"""Training-step and inference speed, tensorgrad vs PyTorch CPU, each in its own fresh process.

LeNet-5 training steps (forward, cross-entropy, backward, SGD with momentum) at batch 32, 64
and 128 and inference at batch 1000; one training step of `mnist_cnn` at batch 64, of
`cifar_cnn` at batch 64 and 128 (the batch of the CIFAR-10 recipe in docs/training.md) and of
`resnet20` at batch 128. Same architectures (PyTorch twins with the same parameter names),
same data shapes, float32.

Every measurement is a fresh process (`measure_step.py`) with a copy of your environment and
the framework's defaults: PyTorch with its default threads and environment, tensorgrad as
imported (its malloc tuning included). The frameworks alternate, A B A B, over --pairs pairs;
a speed is the median over pairs, and a ratio (tensorgrad's speed / PyTorch's) the median of
the per-pair ratios, shown with their min-max. The per-core columns repeat this with one
thread each: OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 set before NumPy loads for
tensorgrad, `torch.set_num_threads(1)` for PyTorch.

    python benchmarks/bench_train.py            # all rows, 3 pairs: about 7-9 minutes
    python benchmarks/bench_train.py --pairs 5  # steadier, longer
    python benchmarks/bench_train.py --quick    # LeNet-5 at batch 64 only
    python benchmarks/bench_train.py --models mnist_cnn cifar_cnn   # these models' rows only
    python benchmarks/bench_train.py --no-per-core

Writes benchmarks/results/bench_train.md (and bench_train.png when matplotlib is installed).
"""
from __future__ import annotations

import argparse
import datetime
import pathlib
import statistics
import time

from common import fresh_process, load_average, machine, paired, version

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results"
MEASURE = str(HERE / "measure_step.py")
# (model, batch, pass)
CASES = [("lenet5", 32, "train"), ("lenet5", 64, "train"), ("lenet5", 128, "train"),
         ("lenet5", 1000, "inference"), ("mnist_cnn", 64, "train"),
         ("cifar_cnn", 64, "train"), ("cifar_cnn", 128, "train"), ("resnet20", 128, "train")]
FRAMEWORKS = ("tensorgrad", "torch")


def measure(case, pairs: int, seconds: float, per_core: bool) -> dict:
    """Per framework and thread setting, the ms of each pair's measurement."""
    settings = [None, 1] if per_core else [None]
    ms = {(f, t): [] for t in settings for f in FRAMEWORKS}
    for _ in range(pairs):
        for threads in settings:
            for framework in FRAMEWORKS:  # A B, each in a fresh process
                args = [framework, *case, "--seconds", seconds]
                if threads:
                    args += ["--threads", threads]
                ms[framework, threads].append(fresh_process(MEASURE, args)["ms"])
    return ms


def summarize(case, ms: dict) -> dict:
    model, batch, mode = case
    row = dict(model=model, batch=batch, mode=mode)
    for threads, key in ((None, ""), (1, "_1t")):
        if (FRAMEWORKS[0], threads) not in ms:
            continue
        tg_ms, torch_ms = ms["tensorgrad", threads], ms["torch", threads]
        row["tg" + key] = 1e3 * batch / statistics.median(tg_ms)
        row["torch" + key] = 1e3 * batch / statistics.median(torch_ms)
        row["ratio" + key] = paired(torch_ms, tg_ms)  # speed ratio = inverse time ratio
    return row


def header(per_core: bool) -> str:
    cols = ["model", "batch", "pass", "tensorgrad images/s", "PyTorch images/s",
            "tensorgrad / PyTorch (min-max)"]
    if per_core:
        cols += ["tensorgrad 1 thread", "PyTorch 1 thread", "per core (min-max)"]
    return "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols)


def _ratio(r) -> str:
    return f"**{r[0]:.2f}** ({r[1]:.2f}-{r[2]:.2f})"


def format_row(r: dict) -> str:
    cells = [r["model"], str(r["batch"]), r["mode"], f"{r['tg']:,.0f}", f"{r['torch']:,.0f}",
             _ratio(r["ratio"])]
    if "ratio_1t" in r:
        cells += [f"{r['tg_1t']:,.0f}", f"{r['torch_1t']:,.0f}", _ratio(r["ratio_1t"])]
    return "| " + " | ".join(cells) + " |"


def describe(pairs: int, per_core: bool, load_start: str, load_end: str, minutes: float) -> str:
    threads = ("; per core: one thread each (OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 for "
               "tensorgrad, torch.set_num_threads(1) for PyTorch)") if per_core else ""
    return (f"Measured {datetime.date.today()} on {machine()}; tensorgrad {version('tensorgrad')}"
            f"; float32, synthetic data, SGD with momentum. Each measurement is a fresh "
            f"process at the framework's defaults, tensorgrad and PyTorch alternating over "
            f"{pairs} pair{'s' if pairs > 1 else ''}{threads}; images/s are medians over "
            f"pairs, ratios (tensorgrad's "
            f"speed / PyTorch's) the median of the per-pair ratios with their min-max. Load "
            f"average {load_start} at start, {load_end} at end; {minutes:.1f} min.")


def write_results(rows: list[dict], text: str) -> pathlib.Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "bench_train.md"
    per_core = "ratio_1t" in rows[0]
    path.write_text("\n".join([text, "", header(per_core)] + [format_row(r) for r in rows])
                    + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return path
    labels = [f"{r['model']}\n{r['mode']} b{r['batch']}" for r in rows]
    pos = range(len(rows))
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar([p - 0.2 for p in pos], [r["tg"] for r in rows], 0.4, label="tensorgrad")
    ax.bar([p + 0.2 for p in pos], [r["torch"] for r in rows], 0.4, label="PyTorch CPU")
    ax.set_xticks(list(pos), labels, fontsize=8)
    ax.set_ylabel("images / s (default threads)")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "bench_train.png", dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3, help="A B pairs per row (default 3)")
    parser.add_argument("--seconds", type=float, default=1.0,
                        help="timed steps per measurement, at least (default 1)")
    parser.add_argument("--quick", action="store_true", help="LeNet-5 at batch 64 only")
    parser.add_argument("--models", nargs="+", choices=list(dict.fromkeys(c[0] for c in CASES)),
                        help="only these models' rows")
    parser.add_argument("--no-per-core", dest="per_core", action="store_false",
                        help="skip the one-thread columns (half the time)")
    args = parser.parse_args()
    if not version("torch"):
        raise SystemExit("PyTorch is not installed: pip install torch")
    cases = CASES[1:2] if args.quick else CASES
    cases = [case for case in cases if not args.models or case[0] in args.models]
    start, load_start = time.perf_counter(), load_average()
    print(f"{machine()}\n{header(args.per_core)}", flush=True)
    rows = []
    for case in cases:
        rows.append(summarize(case, measure(case, args.pairs, args.seconds, args.per_core)))
        print(format_row(rows[-1]), flush=True)
    text = describe(args.pairs, args.per_core, load_start, load_average(),
                    (time.perf_counter() - start) / 60)
    print(f"{text}\nwritten to {write_results(rows, text)}")


if __name__ == "__main__":
    main()
