"""Train the same model with tensorgrad and with PyTorch CPU, side by side: same
architecture and initial weights, optimizer, per-batch schedule, batches, data order and
augmentation (both read the batches of tensorgrad's DataLoader with the run's seed).

    python benchmarks/compare_torch_training.py                        # LeNet-5, MNIST, 10 epochs
    python benchmarks/compare_torch_training.py --tensorgrad-run runs/a  # reuse a finished run
    python benchmarks/compare_torch_training.py --model mnist_cnn --dataset fashion-mnist

Options are those of `tensorgrad train`. Reports test accuracy after every epoch, and
seconds per epoch and images/s of the training passes (medians over epochs; evaluation not
included). With --tensorgrad-run, the tensorgrad numbers come from that run's metrics.csv
(its settings are used for PyTorch too) instead of training again.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time

_OMP_WAIT_POLICY = os.environ.get("OMP_WAIT_POLICY")
from common import machine, torch_model, try_import_torch  # noqa: E402 (sets OpenBLAS env)

if _OMP_WAIT_POLICY is None:
    # The frameworks train one after the other, not interleaved, so PyTorch keeps its
    # default OpenMP threads: the PASSIVE policy common.py sets costs it ~30% on LeNet-5.
    os.environ.pop("OMP_WAIT_POLICY", None)

import tensorgrad as tg
from tensorgrad.app.train import (OPTIMIZERS, SCHEDULES, TrainConfig, build_trainer,
                              load_checkpoint, read_metrics)


def torch_optimizer(torch, config: TrainConfig, params, steps_per_epoch: int):
    options = dict(lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer in ("sgd", "rmsprop"):
        options["momentum"] = config.momentum
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
           "rmsprop": torch.optim.RMSprop}[config.optimizer]
    optimizer = cls(params, **options)
    steps = config.epochs * steps_per_epoch
    if config.schedule == "cosine":
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    if config.schedule == "step":
        return optimizer, torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=-(-config.epochs // 3) * steps_per_epoch, gamma=0.1)
    return optimizer, None


def train_torch(torch, config: TrainConfig) -> list[dict]:
    """Train the PyTorch twin from tensorgrad's initial weights on tensorgrad's batches."""
    reference = build_trainer(config, progress=None)   # same seed: same weights and loaders
    images = reference.train_loader.images
    model = torch_model(torch, config.model, images.shape[1], 10, int(images[0].size))
    model.load_state_dict({k: torch.from_numpy(v.copy())
                           for k, v in reference.model.state_dict().items()})
    optimizer, scheduler = torch_optimizer(torch, config, model.parameters(),
                                           len(reference.train_loader))
    loss_fn = torch.nn.CrossEntropyLoss()
    rows = []
    for epoch in range(1, config.epochs + 1):
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
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in reference.test_loader:
                predicted = model(torch.from_numpy(x.data)).argmax(1)
                correct += int((predicted == torch.from_numpy(y.data)).sum())
                total += len(y.data)
        rows.append({"epoch": epoch, "test_acc": correct / total, "epoch_time_s": seconds,
                     "images_per_s": count / seconds})
        print(_line("torch", rows[-1], config.epochs), flush=True)
    return rows


def _line(name: str, row: dict, epochs: int) -> str:
    return (f"{name:>10} epoch {int(row['epoch'])}/{epochs}: test acc "
            f"{100 * row['test_acc']:.2f}%  {row['epoch_time_s']:.1f}s  "
            f"{row['images_per_s']:,.0f} img/s")


def train_tensorgrad(config: TrainConfig) -> list[dict]:
    trainer = build_trainer(config, progress=None, log=lambda line: None)
    rows = []
    while trainer.epoch < config.epochs:
        rows.append(trainer.train_epoch())
        print(_line("tensorgrad", rows[-1], config.epochs), flush=True)
    return rows


def from_run(run: str) -> tuple[TrainConfig, list[dict]]:
    """The config and per-epoch rows of a finished `tensorgrad train` run."""
    config = load_checkpoint(run)["config"]
    metrics = read_metrics(f"{run}/metrics.csv")
    rows = [dict(zip(metrics, values)) for values in zip(*metrics.values())]
    if len(rows) != config.epochs:
        raise SystemExit(f"{run} finished {len(rows)} of its {config.epochs} epochs")
    return config, rows


def summary(name: str, rows: list[dict]) -> str:
    seconds = statistics.median(r["epoch_time_s"] for r in rows)
    rate = statistics.median(r["images_per_s"] for r in rows)
    return (f"| {name} | {100 * rows[-1]['test_acc']:.2f}% | "
            f"{100 * max(r['test_acc'] for r in rows):.2f}% | {seconds:.1f} | {rate:,.0f} |")


_TYPES = {"epochs": int, "batch_size": int, "seed": int, "eval_batch_size": int,
          "train_size": int, "test_size": int, "lr": float, "momentum": float,
          "weight_decay": float}
_CHOICES = {"optimizer": list(OPTIMIZERS), "schedule": SCHEDULES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tensorgrad-run", metavar="RUN_DIR",
                        help="take tensorgrad's numbers (and all settings) from this run")
    defaults = TrainConfig()
    for field in dataclasses.fields(TrainConfig):
        parser.add_argument("--" + field.name.replace("_", "-"),
                            type=_TYPES.get(field.name, str), choices=_CHOICES.get(field.name),
                            default=None if field.name == "lr" else getattr(defaults, field.name))
    args = parser.parse_args()
    malloc = tg.tune_malloc()
    torch = try_import_torch()
    if torch is None:
        raise SystemExit("PyTorch is not installed")
    if args.tensorgrad_run:
        config, tg_rows = from_run(args.tensorgrad_run)
    else:
        config = TrainConfig(**{f.name: getattr(args, f.name)
                                for f in dataclasses.fields(TrainConfig)})
        tg_rows = None
    print(f"{machine()}; torch {torch.__version__} ({torch.get_num_threads()} threads); "
          f"glibc malloc tuned: {'yes' if malloc else 'no'}")
    print(f"{config.model} on {config.dataset}: {config.epochs} epochs, {config.optimizer} "
          f"lr {config.lr:g}, {config.schedule} schedule, batch {config.batch_size}, "
          f"seed {config.seed}\n")
    torch_rows = train_torch(torch, config)
    if tg_rows is None:
        time.sleep(0.2)   # let OpenBLAS threads quiesce after torch (PERF_NOTES)
        tg_rows = train_tensorgrad(config)
    else:
        for row in tg_rows:
            print(_line("tensorgrad", row, config.epochs))
    print("\n| framework | final test acc | best test acc | s/epoch (median) | "
          "images/s (median) |\n|---|---|---|---|---|")
    print(summary(f"tensorgrad {tg.__version__}", tg_rows))
    print(summary(f"PyTorch {torch.__version__}", torch_rows))


if __name__ == "__main__":
    main()
