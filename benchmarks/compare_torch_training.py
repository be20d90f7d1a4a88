"""Train the same model with tensorgrad and with PyTorch CPU, each in its own fresh process:
same architecture and initial weights, optimizer, per-batch schedule, batches, data order and
augmentation (both read the batches of tensorgrad's DataLoader with the run's seed).

    python benchmarks/compare_torch_training.py                        # LeNet-5, MNIST, 10 epochs
    python benchmarks/compare_torch_training.py --model mnist_cnn --dataset fashion-mnist --epochs 4
    python benchmarks/compare_torch_training.py --one-thread           # per core: 1 thread each
    python benchmarks/compare_torch_training.py --tensorgrad-run runs/a  # reuse a finished run
    python benchmarks/compare_torch_training.py --model cifar_cnn --dataset cifar10 \
        --data-dir ../shared/data/cifar10-jpeg --also-test ../shared/data/cifar10-exact-test1000

Options are those of `tensorgrad train`. The two frameworks train in two processes started
fresh with a copy of your environment, each at its defaults (PyTorch: its default threads
and glibc's default malloc; tensorgrad: as imported, its malloc tuning included), and take
turns epoch by epoch: tensorgrad's epoch 1, PyTorch's epoch 1, tensorgrad's epoch 2, ... so
that each pair of epochs sees the same machine. Reports test accuracy after every epoch,
seconds per epoch and images/s of the training passes (medians over epochs; evaluation not
included), and the speed ratio as the median of the per-epoch ratios with their min-max.
--one-thread gives each framework one thread (OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 before
NumPy loads for tensorgrad, torch.set_num_threads(1) for PyTorch). With --tensorgrad-run,
tensorgrad's numbers come from that run's metrics.csv (its settings are used for PyTorch
too) and only PyTorch trains: its ratio then compares epochs measured at different times.
--also-test DIR (repeatable) reports both final models' accuracy on the test set in DIR too
(the same dataset from another folder, such as CIFAR-10's 1,000 exact test images).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time

from common import (Worker, limit_numpy_to_one_thread, machine, paired, serve,  # isort: skip
                    torch_model, version)

HERE = os.path.dirname(os.path.abspath(__file__))
QUIESCE_S = 0.2


# ---------------------------------------------------------------- the two workers

def tensorgrad_worker(config, also_test: list):
    """Serve one tensorgrad training epoch per request (request "also": the accuracy on each
    also_test folder's test set)."""
    from tensorgrad.app.train import build_trainer, evaluate

    trainer = build_trainer(config, progress=None, log=lambda line: None)
    extra = [test_loader(config, folder) for folder in also_test]

    def serve_request(request):
        if request == "also":
            return [evaluate(trainer.model, loader).accuracy for loader in extra]
        return _row(trainer.train_epoch())
    return serve_request


def test_loader(config, folder: str):
    """tensorgrad's loader (evaluation transform included) of the test set in folder."""
    from tensorgrad.app.train import build_trainer, load_dataset

    config = dataclasses.replace(config, data_root=folder, test_size=None)
    test_set = load_dataset(config, train=False)
    return build_trainer(config, datasets=(test_set, test_set), progress=None).test_loader


def torch_worker(config, threads: int | None, also_test: list):
    """Serve one PyTorch training epoch (and test evaluation) per request, from tensorgrad's
    initial weights on tensorgrad's batches (request "also": the accuracy on each also_test
    folder's test set)."""
    os.environ["TENSORGRAD_TUNE_MALLOC"] = "0"  # PyTorch keeps glibc's malloc defaults
    import torch

    from tensorgrad.app.train import build_trainer

    if threads:
        torch.set_num_threads(threads)
    reference = build_trainer(config, progress=None)   # same seed: same weights and loaders
    images = reference.train_loader.images
    model = torch_model(torch, config.model, images.shape[1], 10, int(images[0].size))
    model.load_state_dict({k: torch.from_numpy(v.copy())
                           for k, v in reference.model.state_dict().items()})
    optimizer, scheduler = torch_optimizer(torch, config, model.parameters(),
                                           len(reference.train_loader))
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    extra = [test_loader(config, folder) for folder in also_test]
    epoch = 0

    def accuracy(loader) -> float:
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in loader:
                predicted = model(torch.from_numpy(x.data)).argmax(1)
                correct += int((predicted == torch.from_numpy(y.data)).sum())
                total += len(y.data)
        return correct / total

    def train_epoch(request):
        nonlocal epoch
        if request == "also":
            return [accuracy(loader) for loader in extra]
        epoch += 1
        model.train()
        count, start = 0, time.perf_counter()
        for x, y in reference.train_loader:
            x, y = torch.from_numpy(x.data), torch.from_numpy(y.data)
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            count += len(y)
        seconds = time.perf_counter() - start
        return {"epoch": epoch, "test_acc": accuracy(reference.test_loader),
                "epoch_time_s": seconds, "images_per_s": count / seconds}
    return train_epoch


def torch_optimizer(torch, config, params, steps_per_epoch: int):
    """PyTorch's optimizer and per-batch scheduler for config, as `tensorgrad train` builds
    its own."""
    options = dict(lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer in ("sgd", "rmsprop"):
        options["momentum"] = config.momentum
    if config.nesterov:
        options["nesterov"] = True
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
           "rmsprop": torch.optim.RMSprop}[config.optimizer]
    optimizer = cls(params, **options)
    steps = config.epochs * steps_per_epoch
    if config.schedule == "cosine":
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    if config.schedule == "onecycle":
        return optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr,
                                                              total_steps=steps)
    if config.schedule == "step":
        return optimizer, torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=-(-config.epochs // 3) * steps_per_epoch, gamma=0.1)
    return optimizer, None


def _row(row: dict) -> dict:
    return {k: row[k] for k in ("epoch", "test_acc", "epoch_time_s", "images_per_s")}


def child(framework: str, config_json: str, threads: int | None, also_test: list) -> None:
    """A worker process: limit threads as a user would, then serve epochs."""
    if threads and framework == "tensorgrad":
        limit_numpy_to_one_thread()
    from tensorgrad.app.train import TrainConfig

    config = TrainConfig(**json.loads(config_json))
    serve(tensorgrad_worker(config, also_test) if framework == "tensorgrad"
          else torch_worker(config, threads, also_test))


# ---------------------------------------------------------------- the parent

def _line(name: str, row: dict, epochs: int) -> str:
    return (f"{name:>10} epoch {int(row['epoch'])}/{epochs}: test acc "
            f"{100 * row['test_acc']:.2f}%  {row['epoch_time_s']:.1f}s  "
            f"{row['images_per_s']:,.0f} img/s")


def from_run(run: str, also_test: list):
    """The config and per-epoch rows of a finished `tensorgrad train` run, and its final
    model's accuracy on each also_test folder's test set."""
    from tensorgrad.app.train import build_model, evaluate, load_checkpoint, read_metrics

    state = load_checkpoint(run)
    config = state["config"]
    metrics = read_metrics(f"{run}/metrics.csv")
    rows = [dict(zip(metrics, values)) for values in zip(*metrics.values())]
    if len(rows) != config.epochs:
        raise SystemExit(f"{run} finished {len(rows)} of its {config.epochs} epochs")
    extra = []
    for folder in also_test:
        loader = test_loader(config, folder)
        model = build_model(config.model, loader.dataset.images.shape[1:], 10)
        model.load_state_dict(state["model"])
        extra.append(evaluate(model, loader).accuracy)
    return config, rows, extra


def summary(name: str, rows: list[dict]) -> str:
    seconds = statistics.median(r["epoch_time_s"] for r in rows)
    rate = statistics.median(r["images_per_s"] for r in rows)
    return (f"| {name} | {100 * rows[-1]['test_acc']:.2f}% | "
            f"{100 * max(r['test_acc'] for r in rows):.2f}% | {seconds:.1f} | {rate:,.0f} |")


def train_both(config, tg_rows, threads, also_test: list) -> tuple[list, list, dict]:
    """Epoch by epoch, tensorgrad's worker then PyTorch's (tensorgrad's rows given: PyTorch
    only); then each worker's final accuracy on the also_test folders."""
    args = ["--child-config", json.dumps(dataclasses.asdict(config))]
    if threads:
        args += ["--threads", threads]
    for folder in also_test:
        args += ["--also-test", folder]
    script = os.path.join(HERE, "compare_torch_training.py")
    workers = {"torch": Worker(script, ["--child", "torch", *args])}
    if tg_rows is None:
        workers["tensorgrad"] = Worker(script, ["--child", "tensorgrad", *args])
    rows = {"tensorgrad": tg_rows or [], "torch": []}
    try:
        for epoch in range(config.epochs):
            for name in ("tensorgrad", "torch"):
                if name in workers:
                    time.sleep(QUIESCE_S)
                    rows[name].append(workers[name].ask())
                    print(_line(name, rows[name][-1], config.epochs), flush=True)
                elif len(rows[name]) > epoch:
                    print(_line(name, rows[name][epoch], config.epochs), flush=True)
        extra = {name: worker.ask("also") for name, worker in workers.items()}
    finally:
        for worker in workers.values():
            worker.close()
    return rows["tensorgrad"], rows["torch"], extra


def _flag(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")


def main() -> None:
    from tensorgrad.app.train import OPTIMIZERS, SCHEDULES, TrainConfig

    types = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    parse = {"int": int, "float": float, "bool": _flag}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tensorgrad-run", metavar="RUN_DIR",
                        help="take tensorgrad's numbers (and all settings) from this run")
    parser.add_argument("--one-thread", action="store_true",
                        help="one thread per framework (per-core speed)")
    parser.add_argument("--also-test", action="append", default=[], metavar="DIR",
                        help="also report the final accuracy on the test set in DIR")
    defaults = TrainConfig()
    for field in dataclasses.fields(TrainConfig):
        kind = str(types[field.name]).split()[0].split("|")[0]
        names = ["--" + field.name.replace("_", "-")] + (["--data-dir"] if field.name ==
                                                           "data_root" else [])
        flag = dict(nargs="?", const=True) if kind == "bool" else {}  # --nesterov [yes|no]
        parser.add_argument(*names, type=parse.get(kind, str), **flag,
                            choices={"optimizer": list(OPTIMIZERS),
                                     "schedule": SCHEDULES}.get(field.name),
                            default=None if field.name == "lr" else getattr(defaults, field.name))
    args = parser.parse_args()
    if not version("torch"):
        raise SystemExit("PyTorch is not installed")
    tg_extra = None
    if args.tensorgrad_run:
        config, tg_rows, tg_extra = from_run(args.tensorgrad_run, args.also_test)
    else:
        config = TrainConfig(**{f.name: getattr(args, f.name)
                                for f in dataclasses.fields(TrainConfig)})
        tg_rows = None
    threads = 1 if args.one_thread else None
    print(f"{machine()}; each framework in its own fresh process, "
          f"{'1 thread each' if threads else 'default threads'}")
    print(f"{config.model} on {config.dataset}: {config.epochs} epochs, {config.optimizer} "
          f"lr {config.lr:g}, {config.schedule} schedule, batch {config.batch_size}, "
          f"seed {config.seed}\n")
    tg_rows, torch_rows, extra = train_both(config, tg_rows, threads, args.also_test)
    extra.setdefault("tensorgrad", tg_extra)
    ratio = paired([r["images_per_s"] for r in tg_rows], [r["images_per_s"] for r in torch_rows])
    print("\n| framework | final test acc | best test acc | s/epoch (median) | "
          "images/s (median) |\n|---|---|---|---|---|")
    print(summary(f"tensorgrad {version('tensorgrad')}", tg_rows))
    print(summary(f"PyTorch {version('torch')}", torch_rows))
    print(f"\ntensorgrad / PyTorch speed: {ratio[0]:.2f} (per-epoch ratios "
          f"{ratio[1]:.2f}-{ratio[2]:.2f})")
    for i, folder in enumerate(args.also_test):
        print(f"final test accuracy on {folder}: tensorgrad "
              f"{100 * extra['tensorgrad'][i]:.2f}%, PyTorch {100 * extra['torch'][i]:.2f}%")


if __name__ == "__main__":
    if "--child" in sys.argv:
        child_parser = argparse.ArgumentParser()
        child_parser.add_argument("--child", choices=["tensorgrad", "torch"])
        child_parser.add_argument("--child-config")
        child_parser.add_argument("--threads", type=int)
        child_parser.add_argument("--also-test", action="append", default=[])
        child_args = child_parser.parse_args()
        child(child_args.child, child_args.child_config, child_args.threads,
              child_args.also_test)
    else:
        main()
