"""The training experience a PyTorch or Keras user expects: a progress line with accuracy,
elapsed time and ETA; a model summary (also `tensorgrad summary`); the per-step loss log;
a seeded validation split with a best checkpoint and early stopping; the one-cycle schedule,
Nesterov momentum, label smoothing and augmentation options; plots and feature maps."""
import io

import numpy as np
import pytest

from tensorgrad import nn
from tensorgrad.app import cli, train
from tensorgrad.app.train import (BEST, CHECKPOINT, STEPS, Progress, TrainConfig,
                                  load_checkpoint, read_metrics, read_steps, resume_trainer,
                                  split_validation)
from tensorgrad.nn import models

from test_cli import PNG, fake_data, run  # noqa: F401  (fake_data is a fixture)
from test_train import synthetic, tiny_trainer, weights


def test_progress_shows_running_accuracy_elapsed_and_eta(monkeypatch):
    clock = iter([0.0, 1.0, 2.0, 3.0, 4.0])
    monkeypatch.setattr(train.time, "perf_counter", lambda: next(clock))
    stream = io.StringIO()
    bar = Progress(4, "epoch 1/1", stream)   # a log file: a line every 10% (here each step)
    bar.update(10, 1.0, 5)
    bar.update(10, 0.0, 10)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "epoch 1/1 1/4  loss 1.0000  acc 50.00%  10 img/s  0:01 elapsed, ETA 0:03"
    assert lines[1] == "epoch 1/1 2/4  loss 0.5000  acc 75.00%  10 img/s  0:02 elapsed, ETA 0:02"
    assert train._clock(3725) == "1:02:05"


def test_summary_lists_layers_shapes_and_parameters():
    text = nn.summary(models.lenet5(), (1, 1, 28, 28))
    lines = text.splitlines()
    assert lines[2].split() == ["conv1", "(Conv2d)", "(1,", "6,", "28,", "28)", "156"]
    assert "fc3 (Linear)" in text and "(1, 10)" in text
    assert lines[-1] == "Total parameters: 61,706 (trainable 61,706)"
    frozen = models.resnet20()
    frozen.linear.requires_grad_(False)
    assert nn.summary(frozen, (2, 3, 32, 32)).endswith("Total parameters: 269,722 "
                                                       "(trainable 269,072)")
    assert frozen.training   # the mode is restored


def test_summary_command(capsys):
    status, out, _ = run(capsys, "summary", "--model", "resnet20", "--dataset", "cifar10")
    assert status == 0
    assert out.startswith("resnet20 for cifar10 images (3, 32, 32):")
    assert "layer3.2.bn2 (BatchNorm2d)  (1, 64, 8, 8)" in out
    assert out.rstrip().endswith("Total parameters: 269,722 (trainable 269,722)")
    status, _, err = run(capsys, "summary", "--model", "lenet5", "--dataset", "cifar10")
    assert status == 1 and "model lenet5 does not take images of shape (3, 32, 32)" in err


def test_validation_split_is_seeded_disjoint_and_keeps_order():
    data = synthetic(50)
    data.labels[:] = np.arange(50)   # labels identify the images
    a_train, a_val = split_validation(data, 0.2, seed=7)
    b_train, b_val = split_validation(data, 0.2, seed=7)
    assert len(a_val) == 10 and len(a_train) == 40
    assert a_val.labels.tolist() == b_val.labels.tolist()
    assert sorted(a_train.labels.tolist() + a_val.labels.tolist()) == list(range(50))
    assert a_train.labels.tolist() == sorted(a_train.labels.tolist())
    assert split_validation(data, 0.2, seed=8)[1].labels.tolist() != a_val.labels.tolist()
    with pytest.raises(ValueError, match="val_split 0.001 of 50 training images leaves no "
                                         "validation images"):
        split_validation(data, 0.001, seed=0)


def test_best_checkpoint_and_metrics_with_validation(tmp_path):
    trainer = tiny_trainer(tmp_path, epochs=3, val_split=0.25)
    assert len(trainer.train_loader.labels) == 48 and len(trainer.val_loader.labels) == 16
    history = trainer.fit()
    metrics = read_metrics(tmp_path / "metrics.csv")
    np.testing.assert_allclose(metrics["val_acc"], [r["val_acc"] for r in history])
    best = max(history, key=lambda r: r["val_acc"])
    saved = load_checkpoint(tmp_path / BEST)
    assert saved["epoch"] == best["epoch"] == trainer.best_row()["epoch"]
    assert load_checkpoint(tmp_path / CHECKPOINT)["epoch"] == 3


def test_early_stop_ends_the_run_after_patience_epochs_without_improvement(tmp_path):
    lines = []
    trainer = tiny_trainer(tmp_path, epochs=10, val_split=0.25, early_stop=2, lr=0.0)
    trainer.log = lines.append
    history = trainer.fit()   # lr 0: the validation accuracy never changes after epoch 1
    assert len(history) == 3
    assert lines[-1].startswith("early stop: no better validation accuracy for 2 epochs")
    assert load_checkpoint(tmp_path / BEST)["epoch"] == 1


def test_metrics_without_validation_have_empty_val_columns(tmp_path):
    tiny_trainer(tmp_path, epochs=1).fit()
    assert np.isnan(read_metrics(tmp_path / "metrics.csv")["val_acc"]).all()
    assert not (tmp_path / BEST).exists()


def test_step_log_has_every_step_and_survives_resume(tmp_path):
    whole = tiny_trainer(tmp_path / "whole", epochs=2)
    whole.fit()
    steps = read_steps(tmp_path / "whole" / STEPS)
    assert steps["step"].tolist() == [1, 2, 3, 4] * 2 and steps["epoch"].tolist() == [1] * 4 + [2] * 4
    assert np.isfinite(steps["loss"]).all() and steps["lr"][0] == 3e-3
    cut = tiny_trainer(tmp_path / "cut", epochs=2)
    cut.fit(until=1)
    resumed = resume_trainer(tmp_path / "cut", datasets=(synthetic(64), synthetic(32, seed=1)),
                             log=lambda line: None, progress=None)
    resumed.fit()
    again = read_steps(tmp_path / "cut" / STEPS)
    for key in ("epoch", "step", "loss", "lr"):
        np.testing.assert_array_equal(again[key], steps[key], err_msg=key)


def test_onecycle_nesterov_and_label_smoothing_reach_the_optimizer_and_loss():
    trainer = tiny_trainer(optimizer="sgd", lr=0.1, schedule="onecycle", nesterov=True,
                           label_smoothing=0.1)
    assert trainer.optimizer.param_groups[0]["nesterov"] is True
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 / 25)
    assert trainer.loss_fn.keywords == {"label_smoothing": 0.1}
    trainer.fit()
    lrs = [lr for _, _, _, lr in trainer.steps]   # the rate each of the 8 steps used
    assert 0.09 < max(lrs) <= 0.1 and lrs[-1] == pytest.approx(0.1 / 25 / 1e4)


@pytest.mark.parametrize("options, message", [
    (dict(early_stop=3), "early_stop needs a validation split"),
    (dict(val_split=1.0), r"val_split must be a fraction in \[0, 1\)"),
    (dict(label_smoothing=-0.1), r"label_smoothing must be in \[0, 1\)"),
    (dict(nesterov=True), "nesterov needs the sgd optimizer with momentum > 0"),
    (dict(early_stop=0, val_split=0.1), "early_stop must be an integer >= 1"),
])
def test_new_config_errors(options, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**options)


def test_augment_option_overrides_the_dataset_default():
    crop = lambda config: type(train._transforms(config, 28)[0]).__name__
    assert crop(TrainConfig(dataset="mnist")) == "Normalize"
    assert crop(TrainConfig(dataset="mnist", augment=True)) == "Compose"
    assert crop(TrainConfig(dataset="cifar10", augment=False)) == "Normalize"
    assert crop(TrainConfig(dataset="cifar10")) == "Compose"


def test_cli_train_with_validation_and_data_dir_alias(tmp_path, fake_data, capsys):
    status, out, err = run(capsys, "train", "--epochs", 2, "--batch-size", 16, "--val-split",
                           0.25, "--early-stop", 5, "--optimizer", "sgd", "--nesterov",
                           "--schedule", "onecycle", "--label-smoothing", 0.05, "--lr", 0.05,
                           "--data-dir", tmp_path / "data", "--out", tmp_path / "run")
    assert status == 0, err
    assert "data: 48 training images, 16 validation, 40 test" in out
    assert "val acc " in out and f"best validation epoch" in out and str(tmp_path / "run" / BEST) in out
    assert fake_data[0] == ("mnist", True, str(tmp_path / "data"))
    config = load_checkpoint(tmp_path / "run")["config"]
    assert (config.val_split, config.early_stop, config.nesterov, config.schedule,
            config.label_smoothing) == (0.25, 5, True, "onecycle", 0.05)


def test_plot_draws_step_losses_after_one_epoch(tmp_path, fake_data, capsys):
    pytest.importorskip("matplotlib")
    status, _, err = run(capsys, "train", "--epochs", 1, "--batch-size", 16, "--val-split", 0.25,
                         "--out", tmp_path / "run")
    assert status == 0, err
    status, out, _ = run(capsys, "plot", tmp_path / "run")
    assert status == 0 and (tmp_path / "run" / "curves.png").read_bytes().startswith(PNG)


def test_feature_maps_have_a_colour_scale_per_layer(tmp_path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    import matplotlib.figure
    from tensorgrad.app import plotting
    bars = []
    original = matplotlib.figure.Figure.colorbar
    monkeypatch.setattr(matplotlib.figure.Figure, "colorbar",
                        lambda self, mappable, **kw: bars.append(mappable.get_clim())
                        or original(self, mappable, **kw))
    rng = np.random.default_rng(0)
    maps = [("conv1", rng.standard_normal((6, 8, 8))), ("conv2", 5 + rng.random((16, 4, 4)))]
    plotting.plot_feature_maps(rng.random((1, 8, 8)), maps, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes().startswith(PNG)
    assert len(bars) == 3   # the grey input and each layer, each on its own scale
    assert bars[2] == (pytest.approx(maps[1][1].min()), pytest.approx(maps[1][1].max()))


def test_cli_names_the_option_of_a_bad_value(tmp_path, fake_data, capsys):
    status, _, err = run(capsys, "train", "--seed", -5, "--out", tmp_path / "run")
    assert status == 1 and "error: --seed must be an integer >= 0, got -5" in err
    status, _, err = run(capsys, "train", "--val-split", 1.5, "--out", tmp_path / "run")
    assert status == 1 and "error: --val-split must be a fraction in [0, 1)" in err


def test_an_unwritable_out_folder_is_found_before_training(tmp_path, fake_data, capsys):
    (tmp_path / "file").write_text("not a folder")
    status, _, err = run(capsys, "train", "--out", tmp_path / "file" / "run")
    assert status == 1 and "--out" in err and "cannot be written" in err
    assert fake_data == []   # no data was loaded, no epoch was trained


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.update(epoch="2"), "bad epoch '2'"),
    (lambda s: s.update(epoch=7), "bad epoch 7"),
    (lambda s: s["config"].update(optimizer="lbfgs"), "bad run configuration (unknown optimizer"),
    (lambda s: s.update(history=[]), "the metrics history does not hold one row per finished"),
])
def test_a_hand_edited_checkpoint_gives_one_line(tmp_path, fake_data, capsys, edit, message):
    from tensorgrad import serialization
    status, _, err = run(capsys, "train", "--epochs", 2, "--batch-size", 16, "--out",
                         tmp_path / "run")
    assert status == 0, err
    state = serialization.load(tmp_path / "run" / CHECKPOINT)
    edit(state)
    serialization.save(state, tmp_path / "run" / CHECKPOINT)
    for argv in (("eval", "--checkpoint", tmp_path / "run"),
                 ("train", "--out", tmp_path / "run", "--resume")):
        status, _, err = run(capsys, *argv)
        assert status == 1 and message in err and len(err.strip().splitlines()) == 1, err
