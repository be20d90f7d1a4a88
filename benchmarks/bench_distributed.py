"""Data-parallel training speed: tensorgrad over MPI against PyTorch, each in its own processes.

    python benchmarks/bench_distributed.py            # ~5 minutes; writes
                                                      # benchmarks/results/bench_distributed.md
    python benchmarks/bench_distributed.py --quick    # a few seconds, to check it runs

Configurations (training steps of LeNet-5 at global batch 64 and 128 and of mnist_cnn at 64,
float32, random MNIST-shaped data, Adam), each started as fresh processes at its defaults
and alternated round by round:
  tensorgrad 1 process            BLAS threads as installed (all cores)
  tensorgrad 1 thread             OPENBLAS_NUM_THREADS=1 (the denominator of the scaling)
  tensorgrad 2 workers            mpiexec -n 2, one BLAS thread each (what --workers does),
                                  DistributedDataParallel, batch B/2 a rank
  PyTorch 1 process               its default threads
  PyTorch DDP 2 processes         gloo, one thread each (torchrun's default), batch B/2 a rank
Scaling efficiency = 2-worker images/s / (2 x 1-thread images/s). "MPI ms/step" is the time
rank 0 spends in the gradient Allreduce of a step (waiting for the other rank included).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = [("lenet5", 64), ("lenet5", 128), ("mnist_cnn", 64)]
VARIANTS = ["tg", "tg-1thread", "tg-2workers", "torch", "torch-ddp-2"]


# ---------------------------------------------------------------------------- one process


def _steps(model_name: str, batch: int, seed: int):
    import numpy as np
    rng = np.random.default_rng(seed)
    return [(rng.random((batch, 1, 28, 28), dtype=np.float32),
             rng.integers(0, 10, batch)) for _ in range(8)]


def _plan(step, rank0_broadcast, seconds: float) -> int:
    """Warm up, then the number of steps that take about `seconds` (rank 0 decides)."""
    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(5):
        step()
    per_step = (time.perf_counter() - start) / 5
    return rank0_broadcast(max(5, int(seconds / per_step)))


def tensorgrad_worker(model_name: str, batch: int, seconds: float) -> dict:
    import numpy as np
    import tensorgrad as tg
    import tensorgrad.distributed as dist
    import tensorgrad.functional as F
    from tensorgrad import optim
    from tensorgrad.nn import models
    from tensorgrad.nn.parallel import DistributedDataParallel

    distributed = dist.launched_by_mpi()
    world = 1
    if distributed:
        dist.init_process_group()
        world = dist.get_world_size()
    tg.manual_seed(0)
    model = getattr(models, model_name)()
    spent = [0.0]
    if world > 1:
        model = DistributedDataParallel(model)
        reduce = dist.all_reduce

        def timed_all_reduce(*args, **kwargs):   # time only the gradient Allreduce
            start = time.perf_counter()
            reduce(*args, **kwargs)
            spent[0] += time.perf_counter() - start
        dist.all_reduce = timed_all_reduce
    opt = optim.Adam(model.parameters(), lr=1e-3)
    data = [(tg.tensor(x), tg.tensor(y)) for x, y in _steps(model_name, batch // world, 1)]
    i = [0]

    def step():
        x, y = data[i[0] % len(data)]
        i[0] += 1
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    def broadcast(n):
        if world == 1:
            return n
        box = np.array([n], np.int64)
        dist.broadcast(box, 0)
        return int(box[0])

    n = _plan(step, broadcast, seconds)
    if world > 1:
        dist.barrier()
    spent[0] = 0.0
    start = time.perf_counter()
    for _ in range(n):
        step()
    elapsed = time.perf_counter() - start
    return {"images_per_s": n * batch / elapsed, "mpi_ms": 1e3 * spent[0] / n if world > 1
            else None, "rank": dist.get_rank() if distributed else 0}


def torch_worker(model_name: str, batch: int, seconds: float) -> dict:
    previous = os.environ.get("OMP_WAIT_POLICY")
    sys.path.insert(0, str(HERE))
    from common import torch_model   # (it sets OMP_WAIT_POLICY=PASSIVE: undone for PyTorch)
    if previous is None:
        os.environ.pop("OMP_WAIT_POLICY", None)
    import torch
    import torch.distributed as tdist
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        tdist.init_process_group("gloo")
    torch.manual_seed(0)
    model = torch_model(torch, model_name, 1, 10, 784)
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in
            _steps(model_name, batch // world, 1)]
    i = [0]

    def step():
        x, y = data[i[0] % len(data)]
        i[0] += 1
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    def broadcast(n):
        if world == 1:
            return n
        box = torch.tensor([n])
        tdist.broadcast(box, 0)
        return int(box.item())

    n = _plan(step, broadcast, seconds)
    if world > 1:
        tdist.barrier()
    start = time.perf_counter()
    for _ in range(n):
        step()
    elapsed = time.perf_counter() - start
    rank = tdist.get_rank() if world > 1 else 0
    if world > 1:
        tdist.destroy_process_group()
    return {"images_per_s": n * batch / elapsed, "mpi_ms": None, "rank": rank}


# ---------------------------------------------------------------------------- launching


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(variant: str, model_name: str, batch: int, seconds: float) -> dict:
    """Start `variant` in fresh processes; rank 0's result."""
    me = [sys.executable, str(Path(__file__).resolve())]
    args = ["--model", model_name, "--batch", str(batch), "--seconds", str(seconds)]
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    if variant == "tg":
        commands = [me + ["--worker", "tensorgrad"] + args]
    elif variant == "tg-1thread":
        env["OPENBLAS_NUM_THREADS"] = "1"
        commands = [me + ["--worker", "tensorgrad"] + args]
    elif variant == "tg-2workers":
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        mpiexec = Path(sys.executable).parent / "mpiexec"
        commands = [[str(mpiexec) if mpiexec.exists() else "mpiexec", "-n", "2"] + me +
                    ["--worker", "tensorgrad"] + args]
    elif variant == "torch":
        commands = [me + ["--worker", "torch"] + args]
    else:   # torch DDP, 2 processes as torchrun starts them
        port = str(_free_port())
        commands = [(me + ["--worker", "torch"] + args,
                     dict(env, RANK=str(r), WORLD_SIZE="2", LOCAL_RANK=str(r),
                          MASTER_ADDR="127.0.0.1", MASTER_PORT=port, OMP_NUM_THREADS="1"))
                    for r in range(2)]
    runs = [subprocess.Popen(c[0], env=c[1], stdout=subprocess.PIPE, text=True)
            if isinstance(c, tuple) else
            subprocess.Popen(c, env=env, stdout=subprocess.PIPE, text=True) for c in commands]
    outputs = [p.communicate(timeout=300)[0] for p in runs]
    if any(p.returncode for p in runs):
        raise RuntimeError(f"{variant} {model_name} {batch} failed: {outputs}")
    results = [json.loads(line) for out in outputs for line in out.splitlines()
               if line.startswith("{")]
    return next(r for r in results if r["rank"] == 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", choices=["tensorgrad", "torch"])
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=4.0, help="timed seconds per run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny runs (checks it works)")
    parser.add_argument("--out", default=str(HERE / "results" / "bench_distributed.md"))
    args = parser.parse_args()
    if args.worker:
        worker = tensorgrad_worker if args.worker == "tensorgrad" else torch_worker
        result = worker(args.model, args.batch, args.seconds)
        if result["rank"] == 0:   # (ranks' lines would interleave under mpiexec)
            print(json.dumps(result), flush=True)
        return
    seconds, rounds, configs = (0.3, 1, CONFIGS[:1]) if args.quick else \
        (args.seconds, args.rounds, CONFIGS)
    samples = {(c, v): [] for c in configs for v in VARIANTS}
    for _ in range(rounds):
        for config in configs:
            for variant in VARIANTS:   # alternating: one run of each, then again
                samples[(config, variant)].append(measure(variant, *config, seconds))
                print(config, variant, samples[(config, variant)][-1], flush=True)
    write_table(samples, configs, rounds, seconds, Path(args.out))


def write_table(samples: dict, configs: list, rounds: int, seconds: float, out: Path) -> None:
    sys.path.insert(0, str(HERE))
    from common import machine
    speed = {k: statistics.median(r["images_per_s"] for r in v) for k, v in samples.items()}
    lines = [f"# Data-parallel training, images/s (median of {rounds} fresh runs of ~{seconds:g} "
             "s each)", "", machine(), "",
             "| model, global batch | tensorgrad 1 process | tensorgrad 1 thread | tensorgrad 2 "
             "workers | PyTorch 1 process | PyTorch DDP 2 | 2 workers / PyTorch | 2 workers / "
             "PyTorch DDP | scaling efficiency | MPI ms/step |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for config in configs:
        s = {v: speed[(config, v)] for v in VARIANTS}
        mpi = statistics.median(r["mpi_ms"] for r in samples[(config, "tg-2workers")])
        lines.append(f"| {config[0]}, {config[1]} | {s['tg']:,.0f} | {s['tg-1thread']:,.0f} | "
                     f"{s['tg-2workers']:,.0f} | {s['torch']:,.0f} | {s['torch-ddp-2']:,.0f} | "
                     f"{s['tg-2workers'] / s['torch']:.2f} | "
                     f"{s['tg-2workers'] / s['torch-ddp-2']:.2f} | "
                     f"{s['tg-2workers'] / (2 * s['tg-1thread']):.2f} | {mpi:.2f} |")
    lines += ["", "Produced by `python benchmarks/bench_distributed.py` (see its docstring for "
              "what each column runs)."]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
