"""The training loop behind `tensorgrad train`, usable on its own::

    from tensorgrad.train import TrainConfig, build_trainer, resume_trainer
    trainer = build_trainer(TrainConfig(model="lenet5", dataset="mnist", epochs=10), out="runs/a")
    trainer.fit()                   # per-epoch metrics.csv and checkpoint.npz in runs/a
    trainer = resume_trainer("runs/a")   # later: continues bit-for-bit where it stopped

A run folder holds ``checkpoint.npz`` (written atomically after every epoch: model,
optimizer, scheduler, epoch, loader and global RNG states, the config and the metrics so
far), ``metrics.csv`` (one row per epoch), ``steps.csv`` (the loss and learning rate of
every step) and, with a validation split, ``best.npz``: the checkpoint of the epoch with the
best validation accuracy so far. A run stops with `NonFiniteLossError` on a NaN or infinite
loss, before that step changes the weights; the checkpoint of the last finished epoch is
kept.

Started by mpiexec (`tensorgrad train --workers N` does it), a run with config.workers = N
trains data-parallel: each rank takes a DistributedSampler shard of every epoch and
batch_size / N images a step, DistributedDataParallel averages the gradients, the reported
loss and accuracy are over all ranks, and only rank 0 logs and writes the run folder.
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import math
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import distributed as dist
from .. import functional as F
from .. import optim
from ..autograd import no_grad
from ..data import (CIFAR10, MNIST, DataLoader, DistributedSampler, FashionMNIST,
                    TensorDataset, transforms)
from ..nn import models
from ..nn.parallel import DistributedDataParallel
from ..random import get_rng_state, manual_seed, set_rng_state
from ..serialization import load, save
from ..serialization.atomic import atomic_write
from ..tensor import Tensor

__all__ = ["TrainConfig", "Trainer", "EvalResult", "NonFiniteLossError", "CheckpointError",
           "Progress", "build_trainer", "resume_trainer", "load_checkpoint", "load_dataset",
           "split_validation", "build_model", "evaluate", "read_metrics", "read_steps",
           "MODELS", "DATASETS", "OPTIMIZERS", "SCHEDULES", "CHECKPOINT", "BEST", "METRICS",
           "STEPS"]

CHECKPOINT = "checkpoint.npz"
BEST = "best.npz"
METRICS = "metrics.csv"
STEPS = "steps.csv"
_FORMAT = "tensorgrad-run-1"


class _DatasetSpec(NamedTuple):
    cls: type
    mean: tuple
    std: tuple
    augment: bool   # random crop (padding 4) and horizontal flip while training
    image_shape: tuple


DATASETS = {
    "mnist": _DatasetSpec(MNIST, (0.1307,), (0.3081,), False, (1, 28, 28)),
    "fashion-mnist": _DatasetSpec(FashionMNIST, (0.2860,), (0.3530,), False, (1, 28, 28)),
    "cifar10": _DatasetSpec(CIFAR10, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), True,
                            (3, 32, 32)),
}
MODELS = {name: getattr(models, name) for name in
          ("lenet5", "mnist_cnn", "cifar_cnn", "mlp", "resnet20", "resnet32", "resnet56",
           "resnet18")}
OPTIMIZERS = {"adam": (optim.Adam, 1e-3), "adamw": (optim.AdamW, 1e-3),
              "sgd": (optim.SGD, 0.05), "rmsprop": (optim.RMSprop, 1e-3)}  # class, default lr
SCHEDULES = ("cosine", "onecycle", "step", "none")


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; `epoch` and `step` (1-based) say where."""

    def __init__(self, epoch: int, step: int, loss: float):
        self.epoch, self.step, self.loss = epoch, step, loss
        super().__init__(f"the loss is {loss} at epoch {epoch}, step {step}: training stopped "
                         f"before that step changed the weights")


class CheckpointError(ValueError):
    """A file that is not a readable tensorgrad training checkpoint."""


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a run; saved in its checkpoint. lr=None takes the optimizer's
    default (Adam/AdamW/RMSprop 1e-3, SGD 0.05). momentum applies to SGD and RMSprop,
    nesterov to SGD. schedule, stepped after every batch: "cosine" (from lr to 0 over the
    whole run), "onecycle" (PyTorch's OneCycleLR with max_lr=lr), "step" (x0.1 after each
    third of the epochs) or "none". label_smoothing goes to the cross-entropy. augment: random
    crop (padding 4) and horizontal flip of training images (None: on for CIFAR-10 only).
    train_size/test_size: use only the first N images. val_split: the fraction of the
    training set held out (seeded) for validation after every epoch; early_stop: stop after
    that many epochs without a better validation accuracy (needs val_split). workers: the
    number of data-parallel processes (MPI ranks); batch_size is the global batch, split
    evenly over them."""

    model: str = "lenet5"
    dataset: str = "mnist"
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float | None = None
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"
    seed: int = 0
    eval_batch_size: int = 1000
    train_size: int | None = None
    test_size: int | None = None
    data_root: str | None = None
    nesterov: bool = False
    label_smoothing: float = 0.0
    augment: bool | None = None
    val_split: float = 0.0
    early_stop: int | None = None
    workers: int = 1

    def __post_init__(self):
        for name, table in (("model", MODELS), ("dataset", DATASETS),
                            ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
            if getattr(self, name) not in table:
                raise ValueError(f"unknown {name} {getattr(self, name)!r} (choose from "
                                 f"{', '.join(table)})")
        for name, low in (("epochs", 1), ("batch_size", 1), ("eval_batch_size", 1),
                          ("train_size", 1), ("test_size", 1), ("early_stop", 1),
                          ("workers", 1), ("seed", 0)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < low):
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        for name in ("lr", "momentum", "weight_decay"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not (isinstance(self.label_smoothing, (int, float)) and 0 <= self.label_smoothing < 1):
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        if not (isinstance(self.val_split, (int, float)) and 0 <= self.val_split < 1):
            raise ValueError(f"val_split must be a fraction in [0, 1), got {self.val_split!r}")
        if self.early_stop is not None and not self.val_split:
            raise ValueError("early_stop needs a validation split (val_split > 0): stopping on "
                             "the test set would tune on it")
        if self.batch_size % self.workers:
            raise ValueError(f"batch_size {self.batch_size} does not split evenly over "
                             f"{self.workers} workers (it is the global batch: use a multiple "
                             f"of {self.workers})")
        if self.nesterov and (self.optimizer != "sgd" or not self.momentum):
            raise ValueError("nesterov needs the sgd optimizer with momentum > 0")
        if self.lr is None:
            self.lr = OPTIMIZERS[self.optimizer][1]


# ---------------------------------------------------------------------------- building blocks


def load_dataset(config: TrainConfig, train: bool) -> TensorDataset:
    """The training or test set named by config.dataset, cut to its first
    config.train_size / config.test_size images when those are set."""
    cls = DATASETS[config.dataset].cls
    ds = cls(config.data_root, train=train)
    n = config.train_size if train else config.test_size
    if n is None:
        return ds
    cut = TensorDataset(ds.images[:n], ds.labels[:n], classes=cls.classes)
    cut.source = f"the first {len(cut)} images of {getattr(ds, 'source', cls.__name__)}"
    return cut


def split_validation(train_set: TensorDataset, fraction: float, seed: int) -> tuple:
    """(train, validation): round(fraction * N) images drawn with a generator seeded by
    `seed` are held out; both keep the training set's order."""
    n = len(train_set)
    held = round(fraction * n)
    if not 0 < held < n:
        raise ValueError(f"val_split {fraction} of {n} training images leaves no "
                         f"{'validation' if held == 0 else 'training'} images")
    mask = np.zeros(n, bool)
    mask[np.random.default_rng(seed).permutation(n)[:held]] = True
    part = lambda m: TensorDataset(train_set.images[m], train_set.labels[m],
                                   classes=train_set.classes)
    return part(~mask), part(mask)


def build_model(name: str, image_shape: tuple, num_classes: int):
    """The model `name` for images of shape (C, H, W); raises ValueError if it cannot take
    them (e.g. lenet5 on 32x32 CIFAR-10 images)."""
    if name == "mlp":
        model = models.mlp(num_classes, in_features=int(np.prod(image_shape)))
    else:
        model = MODELS[name](num_classes=num_classes, in_channels=image_shape[0])
    try:
        with no_grad():
            model.eval()(Tensor(np.zeros((1,) + tuple(image_shape), np.float32)))
    except (ValueError, TypeError) as e:
        raise ValueError(f"model {name} does not take images of shape {tuple(image_shape)}: "
                         f"{e}") from None
    return model.train()


def _transforms(config: TrainConfig, image_size: int):
    spec = DATASETS[config.dataset]
    normalize = transforms.Normalize(spec.mean, spec.std)
    if not (spec.augment if config.augment is None else config.augment):
        return normalize, normalize
    augment = transforms.Compose([transforms.RandomCrop(image_size, padding=4),
                                  transforms.RandomHorizontalFlip(), normalize])
    return augment, normalize


def _scheduler(config: TrainConfig, optimizer, steps_per_epoch: int):
    steps = config.epochs * steps_per_epoch
    if config.schedule == "cosine":
        return optim.CosineAnnealingLR(optimizer, T_max=steps)
    if config.schedule == "onecycle":
        return optim.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps)
    if config.schedule == "step":
        return optim.StepLR(optimizer, step_size=-(-config.epochs // 3) * steps_per_epoch,
                            gamma=0.1)
    return None


def _optimizer(config: TrainConfig, params):
    cls = OPTIMIZERS[config.optimizer][0]
    options = dict(lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer in ("sgd", "rmsprop"):
        options["momentum"] = config.momentum
    if config.nesterov:
        options["nesterov"] = True
    return cls(params, **options)


# ---------------------------------------------------------------------------- evaluation


class EvalResult(NamedTuple):
    loss: float
    accuracy: float
    confusion: np.ndarray   # confusion[true, predicted], counts


def evaluate(model, loader, loss_fn=F.cross_entropy) -> EvalResult:
    """Mean loss, accuracy and confusion matrix of model over loader, in eval mode and
    without recording gradients (the model's mode is restored afterwards)."""
    was_training = model.training
    model.eval()
    total, count, confusion = 0.0, 0, None
    try:
        with no_grad():
            for x, y in loader:
                logits = model(x)
                total += loss_fn(logits, y, reduction="sum").item()
                count += len(y.data)
                k = logits.shape[1]
                pairs = y.data * k + logits.data.argmax(axis=1)
                counts = np.bincount(pairs, minlength=k * k).reshape(k, k)
                confusion = counts if confusion is None else confusion + counts
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the loader yielded no samples")
    return EvalResult(total / count, float(np.trace(confusion)) / count, confusion)


# ---------------------------------------------------------------------------- progress


class Progress:
    """A one-line progress bar on `stream` (stderr) redrawn with carriage returns on a
    terminal at most 10 times a second; elsewhere (a log file) a plain line every 10%. It
    shows the running mean loss and accuracy, the speed, the time elapsed and the ETA."""

    def __init__(self, total: int, desc: str, stream=None):
        self.total, self.desc, self.stream = total, desc, stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.done = self.images = self.correct = 0
        self.loss_sum = 0.0
        self.start = self.last_draw = time.perf_counter()

    def update(self, images: int, loss: float, correct: int | None = None) -> None:
        self.done += 1
        self.images += images
        self.loss_sum += loss * images
        self.correct = None if correct is None or self.correct is None else self.correct + correct
        now = time.perf_counter()
        if self.tty:
            if now - self.last_draw >= 0.1 or self.done == self.total:
                self.last_draw = now
                self.stream.write("\r" + self._line(now, bar=True))
                self.stream.flush()
        elif self.done == self.total or self.done % max(1, self.total // 10) == 0:
            self.stream.write(self._line(now, bar=False) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")   # clear the bar: the epoch line replaces it
            self.stream.flush()

    def _line(self, now: float, bar: bool) -> str:
        elapsed = now - self.start
        rate = self.images / max(elapsed, 1e-9)
        eta = elapsed / self.done * (self.total - self.done)
        width = len(str(self.total))
        accuracy = "" if self.correct is None else f"acc {100 * self.correct / self.images:.2f}%  "
        text = f"{self.done:>{width}}/{self.total}  loss {self.loss_sum / self.images:.4f}  " \
               f"{accuracy}{rate:,.0f} img/s  {_clock(elapsed)} elapsed, ETA {_clock(eta)}"
        if bar:
            filled = 30 * self.done // self.total
            text = f"[{'=' * filled}{'.' * (30 - filled)}] " + text
        return f"{self.desc} {text}"


def _clock(seconds: float) -> str:
    """Seconds as m:ss, or h:mm:ss from an hour on."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# ---------------------------------------------------------------------------- the trainer


class Trainer:
    """Trains `model` with `optimizer` (and an optional `scheduler`, stepped after every
    batch) on `train_loader`, evaluates on `test_loader` after every epoch, and, given
    `out`, writes metrics.csv and an atomic checkpoint there after every epoch.

    `config` (a TrainConfig) is saved in the checkpoint so the run can be rebuilt;
    `loss_fn(logits, target, reduction=...)` defaults to cross-entropy; `log` receives the
    per-epoch lines; `progress` is the stream for the progress bar (True: stderr; None or
    False: no bar). With a `val_loader` the model is also evaluated on it after every epoch,
    the best epoch by validation accuracy is kept in best.npz, and `early_stop` (epochs)
    ends the run when the validation accuracy stops improving.

    In a distributed run (a process group of several ranks) the model trains wrapped in
    DistributedDataParallel (`self.parallel`; `self.model` stays the plain model, so
    checkpoints are those of a single process), losses, accuracies and evaluations are
    combined over the ranks, and only rank 0 logs, draws progress and writes `out`.
    """

    def __init__(self, model, optimizer, train_loader, test_loader, epochs: int,
                 scheduler=None, out=None, config: TrainConfig | None = None,
                 loss_fn=F.cross_entropy, log=print, progress=True, val_loader=None,
                 early_stop: int | None = None):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.train_loader, self.test_loader = train_loader, test_loader
        self.val_loader, self.early_stop = val_loader, early_stop
        self.epochs, self.config, self.loss_fn = epochs, config, loss_fn
        rank, self.world = _rank_and_size()
        self.parallel = DistributedDataParallel(model) if self.world > 1 else model
        self.out = None if out is None or rank else Path(out)
        self.log, self.progress = (log, progress) if rank == 0 else (_quiet, None)
        self.epoch = 0        # finished epochs
        self.history = []     # one metrics row (dict) per finished epoch
        self.steps = []       # (epoch, step, loss, lr) of every finished step

    def fit(self, until: int | None = None) -> list[dict]:
        """Train until `until` epochs (default: all `epochs`) are finished, or until early
        stopping; return the metrics rows of every finished epoch."""
        until = self.epochs if until is None else min(until, self.epochs)
        while self.epoch < until and not self.stopped_early():
            self.history.append(self.train_epoch())
            self.log(_epoch_line(self.history[-1], self.epochs))
            if self.out is not None:
                self.save_checkpoint()
            if self.world > 1:
                dist.barrier()   # no rank starts the next epoch before the checkpoint is written
        if self.stopped_early():
            self.log(f"early stop: no better validation accuracy for {self.early_stop} epochs "
                     f"(best {100 * self.best_row()['val_acc']:.2f}% at epoch "
                     f"{self.best_row()['epoch']})")
        return self.history

    def best_row(self) -> dict | None:
        """The metrics row of the epoch with the best validation accuracy (the first of
        equals), or None without validation."""
        rows = [r for r in self.history if r.get("val_acc") is not None]
        return max(rows, key=lambda r: r["val_acc"]) if rows else None

    def stopped_early(self) -> bool:
        best = self.best_row()
        return bool(self.early_stop and best and self.epoch - best["epoch"] >= self.early_stop)

    def train_epoch(self) -> dict:
        """One pass over the training data, then an evaluation; returns the metrics row."""
        epoch = self.epoch + 1
        lr = self.optimizer.param_groups[0]["lr"]
        stream = sys.stderr if self.progress is True else self.progress
        bar = Progress(len(self.train_loader), f"epoch {epoch}/{self.epochs}", stream) \
            if stream else None
        self.model.train()
        if isinstance(getattr(self.train_loader, "sampler", None), DistributedSampler):
            self.train_loader.sampler.set_epoch(epoch)
        loss_sum, correct, count = 0.0, 0, 0
        start = time.perf_counter()
        steps = []
        try:
            for step, (x, y) in enumerate(self.train_loader, 1):
                step_lr = self.optimizer.param_groups[0]["lr"]
                loss, right, images = self._step(x, y, epoch, step)
                steps.append((epoch, step, loss, step_lr))
                loss_sum += loss * images
                correct += right
                count += images
                if bar is not None:
                    bar.update(images, loss, right)
        finally:
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - start
        if self.world > 1:
            self.parallel.sync_buffers()   # evaluate (and save) rank 0's running statistics
        val = None if self.val_loader is None else self._evaluate(self.val_loader)
        test = self._evaluate(self.test_loader)
        self.epoch = epoch
        self.steps += steps
        return {"epoch": epoch, "lr": lr, "train_loss": loss_sum / count,
                "train_acc": correct / count,
                "val_loss": None if val is None else val.loss,
                "val_acc": None if val is None else val.accuracy,
                "test_loss": test.loss, "test_acc": test.accuracy,
                "epoch_time_s": seconds, "images_per_s": count / seconds}

    def _step(self, x, y, epoch: int, step: int) -> tuple[float, int, int]:
        """One optimisation step; returns the batch's mean loss, correct predictions and
        size (over all ranks)."""
        logits = self.parallel(x)
        loss = self.loss_fn(logits, y)
        value, right, images = loss.item(), int((logits.data.argmax(axis=1) == y.data).sum()), \
            len(y.data)
        if self.world > 1:   # one small Allreduce: every rank sees the same numbers
            totals = np.array([value * images, right, images], np.float64)
            dist.all_reduce(totals)
            value, right, images = totals[0] / totals[2], int(totals[1]), int(totals[2])
        if not math.isfinite(value):
            raise NonFiniteLossError(epoch, step, value)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        return value, right, images

    def _evaluate(self, loader) -> EvalResult:
        """`evaluate` on loader; in a distributed run each rank holds a shard of the data and
        the results are combined into those of the whole set."""
        result = evaluate(self.model, loader, self.loss_fn)
        if self.world == 1:
            return result
        totals = np.concatenate([[result.loss * result.confusion.sum()],
                                 result.confusion.ravel()]).astype(np.float64)
        dist.all_reduce(totals)
        confusion = np.rint(totals[1:]).astype(np.int64).reshape(result.confusion.shape)
        count = confusion.sum()
        return EvalResult(totals[0] / count, float(np.trace(confusion)) / count, confusion)

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict:
        """The whole run state (arrays shared with the live objects, not copied)."""
        return {"format": _FORMAT,
                "config": None if self.config is None else dataclasses.asdict(self.config),
                "epoch": self.epoch, "history": self.history,
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
                "train_loader": self.train_loader.state_dict(), "rng": get_rng_state(),
                "steps": np.array(self.steps, dtype=np.float64).reshape(-1, 4)}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state from `state_dict` (e.g. a loaded checkpoint)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.train_loader.load_state_dict(state["train_loader"])
        set_rng_state(state["rng"])
        self.epoch, self.history = state["epoch"], list(state["history"])
        self.steps = [(int(e), int(s), float(loss), float(lr))
                      for e, s, loss, lr in np.asarray(state.get("steps", np.zeros((0, 4))))]

    def save_checkpoint(self) -> None:
        """Write checkpoint.npz, metrics.csv and steps.csv into `out`, each atomically, and
        best.npz when this epoch has the best validation accuracy so far."""
        self.out.mkdir(parents=True, exist_ok=True)
        state = self.state_dict()
        save(state, self.out / CHECKPOINT)
        if self.best_row() is not None and self.best_row()["epoch"] == self.epoch:
            save(state, self.out / BEST)
        write_metrics(self.history, self.out / METRICS)
        write_rows(self.out / STEPS, _STEP_FIELDS, [dict(zip(_STEP_FIELDS, s)) for s in self.steps])


def _rank_and_size() -> tuple[int, int]:
    """(rank, number of ranks) of the default process group; (0, 1) outside one."""
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


def _quiet(*_args, **_kwargs) -> None:
    """The log of ranks other than 0."""


def _epoch_line(row: dict, epochs: int) -> str:
    val = "" if row.get("val_acc") is None else \
        f"val loss {row['val_loss']:.4f}  val acc {100 * row['val_acc']:.2f}%  "
    return (f"epoch {row['epoch']}/{epochs}  train loss {row['train_loss']:.4f}  "
            f"train acc {100 * row['train_acc']:.2f}%  {val}test loss {row['test_loss']:.4f}  "
            f"test acc {100 * row['test_acc']:.2f}%  lr {row['lr']:.3g}  "
            f"{row['epoch_time_s']:.1f}s ({row['images_per_s']:,.0f} img/s)")


_FIELDS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss",
           "test_acc", "epoch_time_s", "images_per_s")
_STEP_FIELDS = ("epoch", "step", "loss", "lr")


def write_metrics(rows: list[dict], path) -> None:
    """Write metrics rows as CSV, atomically; a missing value (no validation) is empty."""
    write_rows(path, _FIELDS, rows)


def write_rows(path, fields: tuple, rows: list[dict]) -> None:
    """Write rows as CSV with the given columns, atomically (see `atomic_write`); None is
    written as an empty cell."""
    with atomic_write(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)


def read_metrics(path) -> dict[str, np.ndarray]:
    """Read a metrics.csv: {column: float array}, NaN where a value is missing (val_loss
    and val_acc without validation, or in files written before they existed). Raises
    ValueError naming the file if it is empty or lacks a column."""
    return _read_rows(path, _FIELDS, optional=("val_loss", "val_acc"), what="epochs")


def read_steps(path) -> dict[str, np.ndarray]:
    """Read a steps.csv: {"epoch", "step", "loss", "lr": float arrays}, one entry a step."""
    return _read_rows(path, _STEP_FIELDS, optional=(), what="steps")


def _read_rows(path, fields: tuple, optional: tuple, what: str) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no {what} recorded yet")
    try:
        return {field: np.array([float(r.get(field) or "nan") if field in optional
                                 else float(r[field]) for r in rows]) for field in fields}
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: not a tensorgrad {what} file ({e})") from None


# ---------------------------------------------------------------------------- runs from configs


def build_trainer(config: TrainConfig, out=None, datasets=None, **options) -> Trainer:
    """A Trainer for config: seeds the global generator with config.seed, then builds the
    model, optimizer, scheduler and loaders. `datasets`: a (train, test) pair to use instead
    of loading config.dataset; other options go to `Trainer`."""
    train_set, test_set = (load_dataset(config, True), load_dataset(config, False)) \
        if datasets is None else datasets
    val_set = None
    if config.val_split:
        train_set, val_set = split_validation(train_set, config.val_split, config.seed)
    rank, world = _rank_and_size()
    if config.workers != world:
        raise ValueError(f"this run has {config.workers} worker(s) but {world} process(es) "
                         f"run it: start it with --workers {config.workers}")
    manual_seed(config.seed)
    num_classes = len(train_set.classes) or int(train_set.labels.max()) + 1
    model = build_model(config.model, train_set.images.shape[1:], num_classes)
    optimizer = _optimizer(config, model.parameters())
    train_transform, test_transform = _transforms(config, train_set.images.shape[-1])
    if world == 1:
        train_loader = DataLoader(train_set, config.batch_size, shuffle=True, seed=config.seed,
                                  transform=train_transform)
    else:   # each rank: its shard of every epoch's permutation, its part of the batch
        sampler = DistributedSampler(train_set, world, rank, shuffle=True, seed=config.seed)
        train_loader = DataLoader(train_set, config.batch_size // world, sampler=sampler,
                                  transform=train_transform)
    evaluation = lambda ds: DataLoader(ds, config.eval_batch_size, transform=test_transform,
                                       sampler=None if world == 1 else
                                       np.arange(rank, len(ds), world))   # a shard each
    test_loader = evaluation(test_set)
    val_loader = None if val_set is None else evaluation(val_set)
    if config.label_smoothing:
        options.setdefault("loss_fn", functools.partial(F.cross_entropy,
                                                        label_smoothing=config.label_smoothing))
    trainer = Trainer(model, optimizer, train_loader, test_loader, config.epochs,
                      _scheduler(config, optimizer, len(train_loader)), out, config,
                      val_loader=val_loader, early_stop=config.early_stop, **options)
    trainer.data_source = getattr(test_set, "source", None) or type(test_set).__name__
    return trainer


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by `Trainer.save_checkpoint`, with its config as a
    TrainConfig. Raises FileNotFoundError or CheckpointError (naming the file)."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = load(path)
    except ValueError as e:
        raise CheckpointError(str(e)) from None
    if not isinstance(state, dict) or state.get("format") != _FORMAT or \
            not isinstance(state.get("config"), dict):
        raise CheckpointError(f"{path} is not a tensorgrad training checkpoint")
    try:
        state["config"] = TrainConfig(**state["config"])
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad run configuration ({e})") from None
    epoch, history = state.get("epoch"), state.get("history")
    if not (isinstance(epoch, int) and not isinstance(epoch, bool)
            and 0 <= epoch <= state["config"].epochs):
        raise CheckpointError(f"{path}: bad epoch {epoch!r} (an integer from 0 to the run's "
                              f"{state['config'].epochs} epochs)")
    if not (isinstance(history, (list, tuple)) and len(history) == epoch
            and all(isinstance(row, dict) for row in history)):
        raise CheckpointError(f"{path}: the metrics history does not hold one row per finished "
                              f"epoch ({epoch})")
    return state


def resume_trainer(run, datasets=None, data_root=None, **options) -> Trainer:
    """The Trainer of a run folder (or checkpoint file) in the exact state of its last
    checkpoint; `fit()` then continues as if never interrupted. data_root: where the data
    set is now, if it moved."""
    run = Path(run)
    state = load_checkpoint(run)
    out = run if run.is_dir() else run.parent
    config = state["config"]
    if data_root is not None:
        config.data_root = str(data_root)
    trainer = build_trainer(config, out, datasets, **options)
    try:
        trainer.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{out / CHECKPOINT}: cannot restore the run ({e})") from None
    return trainer
