"""The `tensorgrad` command: train, resume, eval, plot, features, and its error handling.

Data sets are replaced by small synthetic ones (the real files are MD5-checked, so fakes
cannot stand in for them); one test uses real MNIST through TENSORGRAD_DATA."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import serialization
from tensorgrad.app import cli
from tensorgrad.app.train import CHECKPOINT, METRICS, Trainer, load_checkpoint, read_metrics

from test_train import synthetic

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def fake_data(monkeypatch):
    """Every data set becomes a small synthetic one of MNIST's or CIFAR-10's shape; the
    requested names are recorded."""
    requests = []

    def load_dataset(config, train):
        requests.append((config.dataset, train, config.data_root))
        shape = (3, 32, 32) if config.dataset == "cifar10" else (1, 28, 28)
        ds = synthetic(64 if train else 40, shape, classes=10, seed=0 if train else 1)
        n = config.train_size if train else config.test_size
        return ds if n is None else type(ds)(ds.images[:n], ds.labels[:n])

    monkeypatch.setattr("tensorgrad.app.train.load_dataset", load_dataset)
    monkeypatch.setattr("tensorgrad.app.cli.load_dataset", load_dataset)
    return requests


def run(capsys, *argv):
    """main(argv) -> (status, stdout, stderr); never a traceback."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


TINY = ("--epochs", 2, "--batch-size", 16, "--lr", 3e-3, "--seed", 5)


@pytest.fixture
def trained(tmp_path, fake_data, capsys):
    """A finished 2-epoch LeNet-5 run folder."""
    status, out, err = run(capsys, "train", *TINY, "--out", tmp_path / "run")
    assert status == 0, err
    return tmp_path / "run"


# ---------------------------------------------------------------------------- train


def test_train_prints_epochs_and_writes_the_run_folder(tmp_path, fake_data, capsys):
    status, out, err = run(capsys, "train", *TINY, "--out", tmp_path / "run",
                           "--data-root", tmp_path / "data")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("training lenet5 on mnist for 2 epochs (adam, lr 0.003, cosine")
    assert lines[1] == "data: 64 training images, 40 test; TensorDataset"
    assert lines[2].split() == ["Layer", "(type)", "Output", "shape", "Param", "#"]  # summary
    assert lines[-4] == "Total parameters: 61,706 (trainable 61,706)"
    assert lines[-3].startswith("epoch 1/2  train loss ") and "test acc " in lines[-3]
    assert lines[-2].startswith("epoch 2/2  ") and lines[-1].startswith("done: test accuracy")
    assert "epoch 1/2 4/4  loss " in err and "img/s" in err   # the progress bar, as lines
    assert " acc " in err and "elapsed, ETA 0:00" in err
    assert fake_data == [("mnist", True, str(tmp_path / "data")),
                         ("mnist", False, str(tmp_path / "data"))]
    assert len(read_metrics(tmp_path / "run" / METRICS)["epoch"]) == 2
    state = load_checkpoint(tmp_path / "run")
    assert state["epoch"] == 2 and state["config"].lr == 3e-3 and state["config"].seed == 5


def test_train_default_out_folder(tmp_path, fake_data, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "train", "--epochs", 1, "--model", "mlp",
                         "--dataset", "fashion-mnist")
    assert status == 0
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("mlp-fashion-mnist-") and (folder / CHECKPOINT).is_file()


def _interrupt_at_epoch(monkeypatch, epoch):
    original = Trainer.train_epoch

    def train_epoch(self):
        if self.epoch + 1 == epoch:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(Trainer, "train_epoch", train_epoch)


def test_interrupt_then_resume_gives_the_uninterrupted_weights(tmp_path, fake_data, capsys,
                                                               monkeypatch, trained):
    with monkeypatch.context() as patch:
        _interrupt_at_epoch(patch, 2)
        status, _, err = run(capsys, "train", *TINY, "--out", tmp_path / "cut")
    assert status == 130
    assert "interrupted during epoch 2: the checkpoint of epoch 1 is in" in err
    assert f"tensorgrad train --out {tmp_path / 'cut'} --resume" in err
    tg.manual_seed(99)
    status, out, _ = run(capsys, "train", "--out", tmp_path / "cut", "--resume")
    assert status == 0 and out.startswith(f"resuming {tmp_path / 'cut'} after epoch 1\n")
    assert "epoch 2/2  train loss" in out and "epoch 1/2" not in out
    straight, resumed = load_checkpoint(trained), load_checkpoint(tmp_path / "cut")
    for name, value in straight["model"].items():
        np.testing.assert_array_equal(resumed["model"][name], value, err_msg=name)
    assert len(read_metrics(tmp_path / "cut" / METRICS)["epoch"]) == 2


def test_interrupt_in_the_first_epoch_saves_nothing(tmp_path, fake_data, capsys, monkeypatch):
    _interrupt_at_epoch(monkeypatch, 1)
    status, _, err = run(capsys, "train", *TINY, "--out", tmp_path / "run")
    assert status == 130 and "no epoch finished, nothing was saved" in err
    assert not (tmp_path / "run" / CHECKPOINT).exists()


def test_resume_a_finished_run(trained, capsys):
    status, out, _ = run(capsys, "train", "--out", trained, "--resume", "--epochs", 2)
    assert status == 0 and out == f"{trained} already finished its 2 epochs\n"


def test_resume_refuses_changed_settings(trained, capsys):
    status, _, err = run(capsys, "train", "--out", trained, "--resume", "--lr", 0.1,
                         "--model", "lenet5")
    assert status == 1
    assert err.strip() == ("tensorgrad train: error: --resume continues a run with its own "
                           "settings; these differ: --lr 0.1 (the run has 0.003)")


def test_resume_may_change_the_data_root(tmp_path, fake_data, capsys, monkeypatch):
    with monkeypatch.context() as patch:
        _interrupt_at_epoch(patch, 2)
        run(capsys, "train", *TINY, "--out", tmp_path / "run")
    status, _, _ = run(capsys, "train", "--out", tmp_path / "run", "--resume",
                       "--data-root", tmp_path / "moved", "--epochs", 2)
    assert status == 0 and fake_data[-1] == ("mnist", False, str(tmp_path / "moved"))
    assert load_checkpoint(tmp_path / "run")["config"].data_root == str(tmp_path / "moved")


def test_resume_needs_out_and_an_existing_run(tmp_path, capsys):
    status, _, err = run(capsys, "train", "--resume")
    assert status == 1 and "--resume needs --out RUN_DIR" in err
    status, _, err = run(capsys, "train", "--resume", "--out", tmp_path)
    assert status == 1 and f"no checkpoint at {tmp_path / CHECKPOINT}" in err


def test_train_refuses_to_overwrite_a_run(trained, capsys):
    status, _, err = run(capsys, "train", *TINY, "--out", trained)
    assert status == 1 and "already holds a run; continue it with --resume" in err


@pytest.mark.parametrize("args, message", [
    (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["--dataset", "imagenet"], "argument --dataset: invalid choice: 'imagenet'"),
    (["--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
    (["--epochs", "ten"], "argument --epochs: invalid int value: 'ten'"),
])
def test_train_usage_errors(args, message, capsys):
    status, _, err = run(capsys, "train", *args)
    assert status == 2 and message in err


@pytest.mark.parametrize("args, message", [
    (["--epochs", -3], "--epochs must be an integer >= 1, got -3"),  # the option as typed
    (["--batch-size", 0], "--batch-size must be an integer >= 1, got 0"),
    (["--lr", -1], "--lr must be a finite number >= 0, got -1.0"),
    (["--lr", "nan"], "--lr must be a finite number >= 0, got nan"),
])
def test_train_bad_values(args, message, tmp_path, capsys):
    status, _, err = run(capsys, "train", *args, "--out", tmp_path)
    assert status == 1 and err.strip() == f"tensorgrad train: error: {message}"


def test_train_model_that_does_not_fit_the_data(tmp_path, fake_data, capsys):
    status, _, err = run(capsys, "train", "--dataset", "cifar10", "--out", tmp_path)
    assert status == 1
    assert err.startswith("tensorgrad train: error: model lenet5 does not take images of "
                          "shape (3, 32, 32)")


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_train_stops_on_a_non_finite_loss(tmp_path, fake_data, capsys):
    status, out, err = run(capsys, "train", "--optimizer", "sgd", "--lr", 1e12, "--epochs", 3,
                           "--batch-size", 16, "--out", tmp_path / "run")
    assert status == 1
    assert "error: the loss is " in err and " at epoch 1, step " in err
    assert "no checkpoint was written" in err and "done" not in out


def test_missing_data_set_is_a_short_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("tensorgrad.data.download.urlopen", _offline)
    status, _, err = run(capsys, "train", "--data-root", tmp_path, "--out", tmp_path / "run")
    assert status == 1 and "tensorgrad train: error: MNIST: 2 file(s) missing" in err


def _offline(url, timeout):
    raise OSError("offline")


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "tensorgrad", "train", "--help"],
                            capture_output=True, text=True, timeout=120,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    assert result.returncode == 0 and "--resume" in result.stdout


# ---------------------------------------------------------------------------- eval


def test_eval_prints_accuracy_and_confusion_matrix(trained, capsys):
    status, out, _ = run(capsys, "eval", "--checkpoint", trained / CHECKPOINT)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("lenet5 on mnist test set, after 2 epochs: loss ")
    assert lines[0].endswith("/40)")   # the whole (fake) test set
    assert lines[1].split() == ["true", "\\", "predicted"] + [str(i) for i in range(10)] + \
        ["recall", "precision", "F1"]
    assert lines[-1].startswith("macro average")
    rows = [line.split() for line in lines[2:-1]]
    assert [r[0] for r in rows] == [str(i) for i in range(10)]   # MNIST's classes: digits
    assert sum(int(c) for r in rows for c in r[1:11]) == 40
    correct = sum(int(r[1 + i]) for i, r in enumerate(rows))
    assert f"({correct}/40)" in lines[0]


def test_eval_batch_size(trained, capsys):
    outputs = [run(capsys, "eval", "--checkpoint", trained, "--batch-size", b)[1]
               for b in (1000, 7)]
    assert outputs[0].splitlines()[2:] == outputs[1].splitlines()[2:]   # same confusion
    status, _, err = run(capsys, "eval", "--checkpoint", trained, "--batch-size", 0)
    assert status == 1 and "--batch-size must be >= 1, got 0" in err


def test_confusion_table_layout():
    table = cli.confusion_table(np.array([[3, 1], [0, 0]]), ["cat", "dog"])
    assert table.splitlines() == [
        "true \\ predicted   0   1   recall precision      F1",
        "0 cat              3   1   75.00%   100.00%  85.71%",
        "1 dog              0   0        -     0.00%       -",   # no dog: recall undefined
        "macro average              75.00%    50.00%  85.71%"]   # means of defined values


def test_eval_errors(tmp_path, capsys):
    status, _, err = run(capsys, "eval", "--checkpoint", tmp_path / "missing.npz")
    assert status == 1 and "no checkpoint at" in err and "missing.npz" in err
    (tmp_path / "bad.npz").write_bytes(b"not a checkpoint at all")
    status, _, err = run(capsys, "eval", "--checkpoint", tmp_path / "bad.npz")
    assert status == 1 and "bad.npz is damaged or not a tensorgrad checkpoint" in err
    serialization.save({"epoch": 1}, tmp_path / "other.npz")
    status, _, err = run(capsys, "eval", "--checkpoint", tmp_path / "other.npz")
    assert status == 1 and "not a tensorgrad training checkpoint" in err
    status, _, err = run(capsys, "eval")
    assert status == 2 and "--checkpoint" in err


def test_eval_of_a_truncated_checkpoint(trained, capsys):
    data = (trained / CHECKPOINT).read_bytes()
    (trained / CHECKPOINT).write_bytes(data[:-100])
    status, _, err = run(capsys, "eval", "--checkpoint", trained)
    assert status == 1 and "is damaged or not a tensorgrad checkpoint" in err


def test_eval_of_weights_that_do_not_fit_the_model(trained, capsys):
    state = serialization.load(trained / CHECKPOINT)
    state["model"]["fc3.weight"] = np.zeros((3, 84), np.float32)
    serialization.save(state, trained / CHECKPOINT)
    status, _, err = run(capsys, "eval", "--checkpoint", trained)
    assert status == 1 and "size mismatch for fc3.weight" in err


def test_eval_of_a_checkpoint_trained_by_several_workers(trained, capsys):
    """eval runs in one process whatever number of workers trained the checkpoint."""
    _, before, _ = run(capsys, "eval", "--checkpoint", trained)
    state = serialization.load(trained / CHECKPOINT)
    state["config"]["workers"] = 2
    serialization.save(state, trained / CHECKPOINT)
    status, out, err = run(capsys, "eval", "--checkpoint", trained)
    assert status == 0 and err == "" and out == before


# ---------------------------------------------------------------------------- plots


def test_plot_writes_curves(trained, capsys):
    pytest.importorskip("matplotlib")
    status, out, _ = run(capsys, "plot", trained)
    assert status == 0 and out == f"wrote {trained / 'curves.png'}\n"
    assert (trained / "curves.png").read_bytes().startswith(PNG)
    status, _, _ = run(capsys, "plot", trained, "--out", trained / "other.png")
    assert status == 0 and (trained / "other.png").read_bytes().startswith(PNG)


def test_plot_errors(tmp_path, capsys):
    status, _, err = run(capsys, "plot", tmp_path)
    assert status == 1 and f"{tmp_path} holds no metrics.csv" in err
    (tmp_path / METRICS).write_text("epoch,lr\n")
    status, _, err = run(capsys, "plot", tmp_path)
    assert status == 1 and "no epochs recorded yet" in err


def test_plot_without_matplotlib(trained, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, _, err = run(capsys, "plot", trained)
    assert status == 1 and "pip install tensorgrad[plot]" in err
    status, _, err = run(capsys, "features", "--checkpoint", trained)
    assert status == 1 and "pip install tensorgrad[plot]" in err


def test_features_writes_every_conv_layer(trained, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    drawn = []
    import tensorgrad.app.plotting as plotting
    original = plotting.plot_feature_maps

    def spy(image, maps, path, title=""):
        drawn.append((image.shape, [(name, m.shape) for name, m in maps], title))
        original(image, maps, path, title)

    monkeypatch.setattr(plotting, "plot_feature_maps", spy)
    status, out, _ = run(capsys, "features", "--checkpoint", trained, "--index", 7)
    assert status == 0 and out == f"wrote {trained / 'features-7.png'}\n"
    assert (trained / "features-7.png").read_bytes().startswith(PNG)
    assert drawn == [((1, 28, 28), [("conv1", (6, 28, 28)), ("conv2", (16, 10, 10))],
                      "mnist test image 7 (label " + str(synthetic(40, classes=10, seed=1)
                                                         .labels[7]) + ")")]


def test_features_index_out_of_range(trained, capsys):
    pytest.importorskip("matplotlib")
    for index in (40, -1):
        status, _, err = run(capsys, "features", "--checkpoint", trained, "--index", index)
        assert status == 1
        assert f"--index {index} is out of range: the mnist test set has 40 images" in err


def test_conv_feature_maps_walks_nested_sequentials():
    from tensorgrad.nn.models import mnist_cnn
    model = mnist_cnn().eval()
    x = tg.tensor(np.random.default_rng(0).random((2, 1, 28, 28)).astype(np.float32))
    with tg.no_grad():
        maps = cli.conv_feature_maps(model, x)
        expected = model.features[0](x).data[0]
    assert [(name, m.shape) for name, m in maps] == [
        ("features.0", (32, 28, 28)), ("features.4", (64, 14, 14)), ("features.8", (64, 7, 7))]
    np.testing.assert_array_equal(maps[0][1], expected)


# ---------------------------------------------------------------------------- real data


def test_train_then_eval_on_real_mnist(tmp_path, capsys):
    if not os.environ.get("TENSORGRAD_DATA"):
        pytest.skip("TENSORGRAD_DATA is not set")
    status, out, err = run(capsys, "train", "--epochs", 1, "--train-size", 512,
                           "--test-size", 200, "--batch-size", 32, "--out", tmp_path)
    assert status == 0, err
    status, out, _ = run(capsys, "eval", "--checkpoint", tmp_path)
    assert status == 0 and "/10000)" in out.splitlines()[0]
