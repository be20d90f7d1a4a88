"""The `tensorgrad` command (also `python -m tensorgrad`): train, eval, plot, features,
summary.

    tensorgrad train                                  # LeNet-5 on MNIST, 10 epochs, to runs/...
    tensorgrad train --out runs/a --resume            # continue an interrupted run
    tensorgrad train --workers 2                      # data-parallel over 2 MPI processes
    tensorgrad eval --checkpoint runs/a               # accuracy, confusion matrix, per class
    tensorgrad plot runs/a                            # runs/a/curves.png
    tensorgrad features --checkpoint runs/a --index 7 # runs/a/features-7.png
    tensorgrad summary --model resnet20 --dataset cifar10  # layers, shapes, parameters

Bad arguments and unreadable files give a one-line error and a non-zero exit status.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import distributed as dist
from ..autograd import no_grad
from ..data import ChecksumError, CIFARError, DataLoader, IDXError, TensorDataset
from ..nn import Conv2d, Sequential, summary
from .train import (BEST, CHECKPOINT, DATASETS, METRICS, MODELS, OPTIMIZERS, SCHEDULES, STEPS,
                    CheckpointError, NonFiniteLossError, TrainConfig, build_model,
                    build_trainer, evaluate, load_checkpoint, load_dataset, read_metrics,
                    read_steps, resume_trainer)

__all__ = ["main"]

# Errors with a message meant for the user: shown as one line, never as a traceback.
_USER_ERRORS = (ValueError, OSError, CheckpointError, ChecksumError, IDXError, CIFARError,
                ImportError)


class _Exit(Exception):
    """Stop with a message and an exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def main(argv=None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]); return the exit status."""
    status = _run(sys.argv[1:] if argv is None else list(argv))
    if status and dist.is_initialized() and dist.get_world_size() > 1:
        dist.abort(status)   # the other ranks may be waiting for this one in a collective
    return status


def _run(argv: list) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        args.argv = argv
        return args.run(args) or 0
    except SystemExit as e:   # argparse: --help (0) or a usage error (2), already printed
        return e.code if isinstance(e.code, int) else 1
    except _Exit as e:
        print(f"{_who(args)}: {e}", file=sys.stderr)
        return e.status
    except _USER_ERRORS as e:
        print(f"{_who(args)}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{_who(args)}: interrupted", file=sys.stderr)
        return 130


def _who(args) -> str:
    """The prefix of an error message: the command, and the rank in a distributed run."""
    rank = f" [rank {dist.get_rank()}]" if dist.is_initialized() and \
        dist.get_world_size() > 1 else ""
    return f"tensorgrad {args.command}{rank}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tensorgrad", description="Train and inspect "
                                     "image classifiers with tensorgrad.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    defaults = TrainConfig()

    train = commands.add_parser(
        "train", help="train a model; writes metrics.csv and checkpoint.npz each epoch",
        argument_default=argparse.SUPPRESS,
        description="Train a model. Options not given take the defaults shown; with "
                    "--resume they come from the run's checkpoint.")
    train.add_argument("--model", choices=list(MODELS), help=f"(default {defaults.model})")
    train.add_argument("--dataset", choices=list(DATASETS), help=f"(default {defaults.dataset})")
    train.add_argument("--epochs", type=int, metavar="N", help=f"(default {defaults.epochs})")
    train.add_argument("--batch-size", type=int, metavar="N",
                       help=f"(default {defaults.batch_size})")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS),
                       help=f"(default {defaults.optimizer})")
    train.add_argument("--lr", type=float, help="learning rate (default: "
                       + ", ".join(f"{k} {v[1]:g}" for k, v in OPTIMIZERS.items()) + ")")
    train.add_argument("--momentum", type=float,
                       help=f"for sgd and rmsprop (default {defaults.momentum})")
    train.add_argument("--nesterov", action="store_true", help="Nesterov momentum (sgd)")
    train.add_argument("--weight-decay", type=float, help=f"(default {defaults.weight_decay})")
    train.add_argument("--schedule", choices=SCHEDULES,
                       help="learning-rate schedule, stepped every batch (default "
                       f"{defaults.schedule})")
    train.add_argument("--label-smoothing", type=float, metavar="F",
                       help=f"cross-entropy label smoothing (default {defaults.label_smoothing})")
    train.add_argument("--augment", action=argparse.BooleanOptionalAction,
                       help="random crop (padding 4) and horizontal flips of training images "
                       "(default: on for cifar10 only)")
    train.add_argument("--val-split", type=float, metavar="F",
                       help="hold out this fraction of the training set (seeded) for "
                       "validation after every epoch; best.npz keeps the best epoch")
    train.add_argument("--early-stop", type=int, metavar="PATIENCE",
                       help="stop after PATIENCE epochs without a better validation accuracy "
                       "(needs --val-split)")
    train.add_argument("--seed", type=int, help=f"(default {defaults.seed})")
    train.add_argument("--train-size", type=int, metavar="N",
                       help="use the first N training images")
    train.add_argument("--test-size", type=int, metavar="N", help="use the first N test images")
    train.add_argument("--data-root", "--data-dir", dest="data_root", metavar="DIR",
                       help="folder holding mnist/, fashion-mnist/, cifar-10/, or a folder of "
                       "CIFAR-10 .bin batches with their MD5SUMS (default $TENSORGRAD_DATA, "
                       "else ~/.cache/tensorgrad)")
    train.add_argument("--out", metavar="DIR", help="run folder (default runs/MODEL-DATASET-TIME)")
    train.add_argument("--resume", action="store_true", default=False,
                       help="continue the run in --out from its last checkpoint")
    train.add_argument("--workers", type=int, metavar="N",
                       help="train data-parallel in N MPI processes (started through mpiexec, "
                       "one BLAS thread each unless OPENBLAS_NUM_THREADS is set); --batch-size "
                       "is the global batch, split over them (default 1, or the number of "
                       "processes when started by mpiexec)")
    train.add_argument("--hostfile", metavar="FILE", default=None,
                       help="with --workers: the machines to run on, passed to mpiexec (MPICH: "
                       "one 'host[:processes]' a line)")
    train.set_defaults(run=_train)

    ev = commands.add_parser("eval", help="test accuracy and confusion matrix of a checkpoint")
    _checkpoint_args(ev)
    ev.add_argument("--batch-size", type=int, default=1000)
    ev.set_defaults(run=_eval)

    plot = commands.add_parser("plot", help="loss and accuracy curves of a run as a PNG")
    plot.add_argument("run_dir", metavar="RUN_DIR")
    plot.add_argument("--out", help="PNG file (default RUN_DIR/curves.png)")
    plot.set_defaults(run=_plot)

    features = commands.add_parser("features", help="feature maps of every conv layer for "
                                   "one test image as a PNG")
    _checkpoint_args(features)
    features.add_argument("--index", type=int, default=0, help="test image index (default 0)")
    features.add_argument("--out", help="PNG file (default features-INDEX.png beside the "
                          "checkpoint)")
    features.set_defaults(run=_features)

    summ = commands.add_parser("summary", help="a model's layers, output shapes and parameter "
                               "counts")
    summ.add_argument("--model", choices=list(MODELS), default=defaults.model)
    summ.add_argument("--dataset", choices=list(DATASETS), default=defaults.dataset,
                      help="sets the input shape and the number of classes (default "
                      f"{defaults.dataset})")
    summ.set_defaults(run=_summary)
    return parser


def _checkpoint_args(parser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="PATH",
                        help="checkpoint.npz, or the run folder holding it")
    parser.add_argument("--data-root", "--data-dir", dest="data_root",
                        help="where the data set is, if not where it was")


# ---------------------------------------------------------------------------- train


def _train(args) -> int:
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
             if hasattr(args, f.name)}
    out = Path(args.out) if hasattr(args, "out") else None
    if dist.launched_by_mpi():
        dist.init_process_group()
        if dist.get_rank() != 0:
            sys.stdout = open(os.devnull, "w")   # only rank 0 reports
        if not args.resume:
            given.setdefault("workers", dist.get_world_size())
    else:
        workers = given.get("workers", _run_workers(out) if args.resume else 1)
        if workers > 1 or args.hostfile:
            if not args.resume:
                _config(dict(given, workers=workers))   # bad settings: fail here, once
            return _launch(args, workers)
    if args.resume:
        trainer = _resumed(out, given)
        if trainer.epoch >= trainer.epochs:
            print(f"{out} already finished its {trainer.epochs} epochs")
            return 0
        print(f"resuming {out} after epoch {trainer.epoch}")
    else:
        config = _config(given)
        out = out or Path(f"runs/{config.model}-{config.dataset}-"
                          f"{time.strftime('%Y%m%d-%H%M%S')}")
        if (out / CHECKPOINT).exists():
            raise _Exit(f"error: {out} already holds a run; continue it with --resume or "
                        f"choose another --out")
        _check_writable(out)
        trainer = build_trainer(config, out)
        print(f"training {config.model} on {config.dataset} for {config.epochs} epochs "
              f"({config.optimizer}, lr {config.lr:g}, {config.schedule} schedule, batch "
              f"{config.batch_size}, seed {config.seed}); run folder {out}")
        print(f"data: {len(trainer.train_loader.labels)} training images"
              + (f", {len(trainer.val_loader.labels)} validation" if trainer.val_loader else "")
              + f", {len(trainer.test_loader.labels)} test; {trainer.data_source}")
        print(summary(trainer.model, (1,) + trainer.train_loader.images.shape[1:]))
    try:
        history = trainer.fit()
    except NonFiniteLossError as e:
        kept = (f"the checkpoint of epoch {trainer.epoch} is kept in {out / CHECKPOINT}"
                if trainer.epoch else "no checkpoint was written")
        raise _Exit(f"error: {e}; {kept}") from None
    except KeyboardInterrupt:
        saved = f"the checkpoint of epoch {trainer.epoch} is in {out / CHECKPOINT}; " \
                f"continue with: tensorgrad train --out {out} --resume" if trainer.epoch \
            else "no epoch finished, nothing was saved"
        raise _Exit(f"interrupted during epoch {trainer.epoch + 1}: {saved}", 130) from None
    best = trainer.best_row()
    kept = f", best validation epoch {best['epoch']} in {out / BEST}" if best else ""
    print(f"done: test accuracy {100 * history[-1]['test_acc']:.2f}% after {trainer.epoch} "
          f"epochs; {out / CHECKPOINT}, {out / METRICS}, {out / STEPS}{kept}")
    return 0


def _config(given: dict) -> TrainConfig:
    """TrainConfig(**given); a bad value is reported under its option's name (--seed)."""
    try:
        return TrainConfig(**given)
    except ValueError as e:
        message = str(e)
        for name in given:
            if message.startswith(f"{name} "):
                message = f"--{name.replace('_', '-')}{message[len(name):]}"
        raise _Exit(f"error: {message}") from None


def _check_writable(out: Path) -> None:
    """Fail before any training if the run folder cannot be created and written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise _Exit(f"error: --out {out} cannot be written ({e.strerror or e}); choose "
                    "another folder") from None


def _run_workers(out) -> int:
    """The number of workers of the run in out (1 if there is no readable run)."""
    try:
        return load_checkpoint(out)["config"].workers
    except (OSError, CheckpointError, TypeError):
        return 1


def _launch(args, workers: int) -> int:
    """Run this same command in `workers` processes through mpiexec; its exit status."""
    if workers < 1:
        raise _Exit(f"error: --workers must be >= 1, got {workers}")
    if not dist.is_available():
        raise _Exit(f"error: --workers needs mpi4py and an MPI library: {dist._INSTALL}")
    mpiexec = shutil.which("mpiexec", path=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if mpiexec is None:
        raise _Exit(f"error: --workers needs mpiexec, which was not found: {dist._INSTALL}")
    command = [mpiexec, "-n", str(workers)]
    if args.hostfile:
        if not Path(args.hostfile).is_file():
            raise _Exit(f"error: --hostfile {args.hostfile}: no such file")
        command += ["-f", args.hostfile]
    command += [sys.executable, "-m", "tensorgrad", *args.argv]
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")   # one BLAS thread a process: the processes use the cores
    process = subprocess.Popen(command, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:   # mpiexec passes Ctrl-C on to every rank, which then stops
        try:
            return process.wait(timeout=30)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            process.kill()
            return 130


def _resumed(out, given: dict):
    if out is None:
        raise _Exit("error: --resume needs --out RUN_DIR, the run to continue")
    saved = dataclasses.asdict(load_checkpoint(out)["config"])
    differ = [f"--{k.replace('_', '-')} {v} (the run has {saved[k]})"
              for k, v in given.items() if k != "data_root" and v != saved[k]]
    if differ:
        raise _Exit("error: --resume continues a run with its own settings; these differ: "
                    + ", ".join(differ))
    return resume_trainer(out, data_root=given.get("data_root"))


# ---------------------------------------------------------------------------- eval


def _restore(args, batch_size: int = 1000):
    """(model in eval mode, config, test loader, epoch) of a checkpoint; the test set is
    used whole."""
    state = load_checkpoint(args.checkpoint)
    config = dataclasses.replace(state["config"], test_size=None, eval_batch_size=batch_size,
                                 workers=1)   # one process, however many trained it
    if args.data_root is not None:
        config.data_root = args.data_root
    test_set = load_dataset(config, train=False)
    trainer = build_trainer(config, datasets=(test_set, test_set), progress=None)
    try:
        trainer.model.load_state_dict(state["model"])
    except RuntimeError as e:
        raise CheckpointError(f"{args.checkpoint}: {e}") from None
    return trainer.model.eval(), config, trainer.test_loader, state["epoch"]


def _eval(args) -> int:
    if args.batch_size < 1:
        raise _Exit(f"error: --batch-size must be >= 1, got {args.batch_size}")
    model, config, loader, epoch = _restore(args, args.batch_size)
    result = evaluate(model, loader)
    count = int(result.confusion.sum())
    print(f"{config.model} on {config.dataset} test set, after {epoch} epochs: loss "
          f"{result.loss:.4f}, accuracy {100 * result.accuracy:.2f}% "
          f"({int(np.trace(result.confusion))}/{count})")
    print(confusion_table(result.confusion, DATASETS[config.dataset].cls.classes))
    return 0


def confusion_table(confusion: np.ndarray, classes) -> str:
    """The confusion matrix as text: a row per true class, a column per predicted class,
    then each class's recall, precision and F1 score ("-" where undefined), and their
    means over the classes (macro averages)."""
    k = len(confusion)
    names = [f"{i} {classes[i]}" if i < len(classes) and classes[i] != str(i) else str(i)
             for i in range(k)]
    first = max(len("true \\ predicted"), *map(len, names))
    width = max(4, len(str(int(confusion.max()))) + 1)
    hits = np.diag(confusion).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = hits / confusion.sum(axis=1)
        precision = hits / confusion.sum(axis=0)
        f1 = 2 * precision * recall / (precision + recall)
    f1[(precision == 0) & (recall == 0)] = 0.0
    cell = lambda v: "      -" if np.isnan(v) else f"{100 * v:6.2f}%"
    lines = ["true \\ predicted".ljust(first) + "".join(f"{j:>{width}}" for j in range(k))
             + "   recall precision      F1"]
    for i, name in enumerate(names):
        lines.append(name.ljust(first) + "".join(f"{int(c):>{width}}" for c in confusion[i])
                     + f"  {cell(recall[i])}   {cell(precision[i])} {cell(f1[i])}")
    means = [np.nanmean(v) if not np.isnan(v).all() else np.nan for v in (recall, precision, f1)]
    lines.append("macro average".ljust(first + k * width)
                 + f"  {cell(means[0])}   {cell(means[1])} {cell(means[2])}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- plots


def _plot(args) -> int:
    from .plotting import plot_metrics
    run = Path(args.run_dir)
    if not (run / METRICS).is_file():
        raise _Exit(f"error: {run} holds no {METRICS} (is it a run folder?)")
    out = Path(args.out) if args.out else run / "curves.png"
    steps = read_steps(run / STEPS) if (run / STEPS).is_file() else None
    plot_metrics(read_metrics(run / METRICS), out, title=str(run), steps=steps)
    print(f"wrote {out}")
    return 0


def _features(args) -> int:
    from .plotting import plot_feature_maps, require_matplotlib
    require_matplotlib()
    model, config, loader, _ = _restore(args)
    n, i = len(loader.labels), args.index
    if not 0 <= i < n:
        raise _Exit(f"error: --index {i} is out of range: the {config.dataset} test set has "
                    f"{n} images")
    one = DataLoader(TensorDataset(loader.images[i:i + 1], loader.labels[i:i + 1]),
                     transform=loader.transform)
    x, y = next(iter(one))
    with no_grad():
        maps = conv_feature_maps(model, x)
    if not maps:
        raise _Exit(f"error: {config.model} has no conv layers")
    checkpoint = Path(args.checkpoint)
    folder = checkpoint if checkpoint.is_dir() else checkpoint.parent
    out = Path(args.out) if args.out else folder / f"features-{i}.png"
    label = DATASETS[config.dataset].cls.classes[int(y.data[0])]
    plot_feature_maps(x.data[0], maps, out,
                      title=f"{config.dataset} test image {i} (label {label})")
    print(f"wrote {out}")
    return 0


def _summary(args) -> int:
    shape = DATASETS[args.dataset].image_shape
    model = build_model(args.model, shape, len(DATASETS[args.dataset].cls.classes))
    print(f"{args.model} for {args.dataset} images {shape}:")
    print(summary(model, (1,) + shape))
    return 0


def conv_feature_maps(model, x) -> list:
    """Run the batch x through a Sequential model (nested Sequentials included) and return
    (name, output of its first sample as an ndarray) for every Conv2d, in order."""
    maps = []

    def run(module, prefix, x):
        if isinstance(module, Sequential):
            for name, child in module.named_children():
                x = run(child, f"{prefix}.{name}" if prefix else name, x)
            return x
        y = module(x)
        if isinstance(module, Conv2d):
            maps.append((prefix, y.data[0]))
        return y

    run(model, "", x)
    return maps
