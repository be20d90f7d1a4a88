"""Datasets: where files are looked for, checksum verification, downloads (served from
file:// mirrors or a monkeypatched urlopen: there is no internet here), validation, and
the real MNIST / Fashion-MNIST files through $TENSORGRAD_DATA."""
import hashlib
import os
import re
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import tensorgrad.data.download as dl
from tensorgrad.data import (CIFAR10, MNIST, ChecksumError, FashionMNIST, Remote,
                             TensorDataset, data_root, write_idx)
from test_cifar import cifar_archive

SPLITS = {"train": 6, "t10k": 4}


def md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def write_fake_mnist(folder, labels_high=10):
    """Small MNIST-format files in folder; returns ({split: (images, labels)}, md5 table)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(folder)))
    arrays, table = {}, {}
    for split, n in SPLITS.items():
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, labels_high, n).astype(np.uint8)
        arrays[split] = images, labels
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{split}-{kind}-ubyte.gz"
            write_idx(folder / name, array)
            table[name] = md5(folder / name)
    return arrays, table


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A root holding small mnist/ files, with MNIST's MD5 table pointing at them."""
    arrays, table = write_fake_mnist(tmp_path / "mnist")
    monkeypatch.setattr(MNIST, "md5", table)
    return tmp_path, arrays


@pytest.fixture
def no_network(monkeypatch):
    def refuse(url, timeout=None):
        raise AssertionError(f"unexpected download of {url}")
    monkeypatch.setattr(dl, "urlopen", refuse)


# ------------------------------------------------------------------ root and loading

def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TENSORGRAD_DATA", raising=False)
    assert data_root() == tmp_path / "home" / ".cache" / "tensorgrad"
    monkeypatch.setenv("TENSORGRAD_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data_root("~/x") == tmp_path / "home" / "x"


@pytest.mark.parametrize("train, split", [(True, "train"), (False, "t10k")])
def test_mnist_loads_from_root_argument(fake_mnist, no_network, train, split):
    root, arrays = fake_mnist
    ds = MNIST(root, train=train)
    images, labels = arrays[split]
    assert ds.images.dtype == np.uint8 and ds.images.shape == (SPLITS[split], 1, 28, 28)
    assert ds.labels.dtype == np.int64
    np.testing.assert_array_equal(ds.images[:, 0], images)
    np.testing.assert_array_equal(ds.labels, labels)
    assert len(ds) == SPLITS[split] and ds.classes == [str(d) for d in range(10)]
    image, label = ds[2]
    np.testing.assert_array_equal(image, images[2][None])
    assert label == labels[2] and ds.train is train
    assert repr(ds) == f"MNIST({SPLITS[split]} images of shape (1, 28, 28))"


def test_root_from_environment(fake_mnist, no_network, monkeypatch):
    root, arrays = fake_mnist
    monkeypatch.setenv("TENSORGRAD_DATA", str(root))
    np.testing.assert_array_equal(MNIST(train=False).labels, arrays["t10k"][1])


def test_fashion_mnist_has_its_own_folder_and_classes(tmp_path, monkeypatch, no_network):
    arrays, table = write_fake_mnist(tmp_path / "fashion-mnist")
    monkeypatch.setattr(FashionMNIST, "md5", table)
    ds = FashionMNIST(tmp_path, download=False)
    np.testing.assert_array_equal(ds.labels, arrays["train"][1])
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "mnist"))):
        MNIST(tmp_path, download=False)


# ------------------------------------------------------------------ checksums

@pytest.mark.parametrize("download", [True, False])
def test_wrong_checksum_is_an_error_never_used(fake_mnist, no_network, download):
    root, _ = fake_mnist
    path = root / "mnist" / "train-labels-idx1-ubyte.gz"
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    actual = md5(path)
    with pytest.raises(ChecksumError) as info:
        MNIST(root, download=download)
    message = str(info.value)
    assert str(path) in message and actual in message
    assert MNIST.md5["train-labels-idx1-ubyte.gz"] in message
    assert path.exists()  # left for the user to inspect or delete


def test_verification_is_cached_by_size_and_mtime(fake_mnist, no_network, monkeypatch):
    root, _ = fake_mnist
    calls = []
    real_md5sum = dl.md5sum
    monkeypatch.setattr(dl, "md5sum", lambda p: calls.append(Path(p).name) or real_md5sum(p))
    MNIST(root, train=False)
    assert sorted(calls) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    MNIST(root, train=False)
    assert len(calls) == 2
    path = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes() + b"\x00")  # changes size and content
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.gz has MD5"):
        MNIST(root, train=False)
    assert calls[-1] == "t10k-labels-idx1-ubyte.gz"


# ------------------------------------------------------------------ offline and downloads

def test_offline_error_lists_exactly_the_missing_files(fake_mnist, no_network):
    root, _ = fake_mnist
    (root / "mnist" / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        MNIST(root, train=False, download=False)
    message = str(info.value)
    target = root / "mnist" / "t10k-images-idx3-ubyte.gz"
    assert f"MNIST: 1 file(s) missing in {root / 'mnist'}" in message
    assert f"  {target}  (md5 {MNIST.md5['t10k-images-idx3-ubyte.gz']}; published at " \
           f"https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz)" in message
    assert "labels" not in message and "download=False" in message


def test_failed_download_reports_every_mirror_and_leaves_nothing(tmp_path, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("no route to host")
    monkeypatch.setattr(dl, "urlopen", offline)
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path, train=True)
    message = str(info.value)
    assert "MNIST: 2 file(s) missing" in message and "Downloading failed" in message
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        assert str(tmp_path / "mnist" / name) in message
        for mirror in MNIST.mirrors:
            assert f"{mirror}{name}: <urlopen error no route to host>" in message
    assert os.listdir(tmp_path) == []  # not even the mnist/ folder


def test_download_falls_back_to_next_mirror(tmp_path, monkeypatch, capsys):
    _, table = write_fake_mnist(tmp_path / "published")
    monkeypatch.setattr(MNIST, "md5", table)
    monkeypatch.setattr(MNIST, "mirrors", ((tmp_path / "gone").as_uri() + "/",
                                           (tmp_path / "published").as_uri() + "/"))
    ds = MNIST(tmp_path / "root", train=False)
    folder = tmp_path / "root" / "mnist"
    assert sorted(os.listdir(folder)) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    for name in os.listdir(folder):
        assert md5(folder / name) == table[name]
    assert len(ds) == SPLITS["t10k"]
    assert "downloading file://" in capsys.readouterr().err


def test_downloaded_file_with_wrong_checksum_is_discarded(tmp_path, monkeypatch):
    _, table = write_fake_mnist(tmp_path / "published")
    monkeypatch.setattr(MNIST, "md5", dict(table, **{"t10k-labels-idx1-ubyte.gz": "0" * 32}))
    monkeypatch.setattr(MNIST, "mirrors", ((tmp_path / "published").as_uri() + "/",))
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path / "root", train=False)
    good = md5(tmp_path / "published" / "t10k-labels-idx1-ubyte.gz")
    assert f"downloaded data has MD5 {good}, expected {'0' * 32}" in str(info.value)
    assert os.listdir(tmp_path / "root" / "mnist") == ["t10k-images-idx3-ubyte.gz"]


class _Response:
    """A urlopen response serving `chunks`, calling `check` before each read; an exception
    among the chunks is raised when reached (a dropped connection)."""

    def __init__(self, chunks, check=lambda: None):
        self.chunks, self.check = list(chunks), check

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, size):
        self.check()
        item = self.chunks.pop(0) if self.chunks else b""
        if isinstance(item, Exception):
            raise item
        return item


def test_download_is_atomic_and_interruption_leaves_no_partial_file(tmp_path, monkeypatch):
    data = os.urandom(3000)
    remote = Remote("blob.bin", hashlib.md5(data).hexdigest(),
                    ("http://a/blob.bin", "http://b/blob.bin"))
    folder = tmp_path / "f"
    target = folder / "blob.bin"
    seen = []

    def while_streaming():
        assert not target.exists()  # the real name appears only once complete and verified
        seen.append(os.listdir(folder))

    def urlopen(url, timeout=None):
        if url.startswith("http://a/"):
            return _Response([data[:1000], ConnectionResetError("connection reset")],
                             while_streaming)
        return _Response([data[:1000], data[1000:]], while_streaming)

    monkeypatch.setattr(dl, "urlopen", urlopen)
    assert dl.download(remote, folder) == target
    assert target.read_bytes() == data and os.listdir(folder) == ["blob.bin"]
    assert all(len(names) == 1 and names[0].endswith(".part") for names in seen)

    target.unlink()
    monkeypatch.setattr(dl, "urlopen", lambda url, timeout=None: _Response(
        [data[:1000], ConnectionResetError("connection reset")]))
    with pytest.raises(OSError, match="http://b/blob.bin: connection reset"):
        dl.download(remote, folder)
    assert os.listdir(folder) == []


# ------------------------------------------------------------------ validation

@pytest.mark.parametrize("name, array, message", [
    ("t10k-images-idx3-ubyte.gz", np.zeros((4, 28, 27), np.uint8),
     "expected uint8 images of shape (N, 28, 28), got uint8 (4, 28, 27)"),
    ("t10k-images-idx3-ubyte.gz", np.zeros((4, 28, 28), np.int32),
     "expected uint8 images of shape (N, 28, 28), got int32 (4, 28, 28)"),
    ("t10k-labels-idx1-ubyte.gz", np.zeros(5, np.uint8),
     "expected 4 uint8 labels (one per image in t10k-images-idx3-ubyte.gz), got uint8 (5,)"),
    ("t10k-labels-idx1-ubyte.gz", np.array([0, 3, 10, 2], np.uint8),
     "labels must be in 0..9, found 10"),
])
def test_mnist_rejects_wrong_contents(fake_mnist, no_network, monkeypatch, name, array, message):
    root, _ = fake_mnist
    path = root / "mnist" / name
    write_idx(path, array)
    monkeypatch.setitem(MNIST.md5, name, md5(path))
    with pytest.raises(ValueError, match=re.escape(f"{path}: {message}")):
        MNIST(root, train=False)


def test_cifar10_reads_the_archive(tmp_path, monkeypatch, no_network):
    folder = tmp_path / "cifar-10"
    folder.mkdir()
    path = folder / "cifar-10-python.tar.gz"
    batches = cifar_archive(path)
    monkeypatch.setattr(CIFAR10, "remote", CIFAR10.remote._replace(md5=md5(path)))
    train, test = CIFAR10(tmp_path), CIFAR10(tmp_path, train=False)
    assert train.images.shape == (2 + 3 + 1 + 2 + 4, 3, 32, 32) and train.labels.dtype == np.int64
    np.testing.assert_array_equal(test.images, batches["test_batch"][0])
    assert len(test) == 3 and test.classes[0] == "airplane" and len(test.classes) == 10


def test_cifar10_offline_message():
    with pytest.raises(FileNotFoundError) as info:
        CIFAR10("/nonexistent-root", download=False)
    assert ("/nonexistent-root/cifar-10/cifar-10-python.tar.gz  "
            "(md5 c58f30108f718f92721af3b95e74349a; "
            "published at https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz)"
            ) in str(info.value)


def test_tensor_dataset():
    images = np.arange(5 * 2 * 3, dtype=np.float64).reshape(5, 2, 3)
    ds = TensorDataset(images, np.array([4, 3, 2, 1, 0], np.uint8), classes=("a", "b"))
    assert ds.labels.dtype == np.int64 and len(ds) == 5 and ds.classes == ["a", "b"]
    image, label = ds[1]
    np.testing.assert_array_equal(image, images[1])
    assert label == 3
    assert TensorDataset(images, np.arange(5)).classes == []


@pytest.mark.parametrize("arrays, error, message", [
    ((np.float32(1.0), np.arange(1)), TypeError,
     "TensorDataset: array 0 must be numeric with one row per sample, got float32 with shape ()"),
    ((np.zeros((3, 2)), np.array(list("abc"))), TypeError,
     "TensorDataset: array 1 must be numeric with one row per sample, got <U1 with shape (3,)"),
    ((np.zeros((3, 2)), np.arange(4)), ValueError,
     "TensorDataset: every array needs one row per sample (the same first dimension), got "
     "shapes (3, 2), (4,)"),
    ((), TypeError, "TensorDataset: give at least one array or Tensor"),
])
def test_tensor_dataset_rejects(arrays, error, message):
    with pytest.raises(error, match=re.escape(message)):
        TensorDataset(*arrays)


# ------------------------------------------------------------------ the real files

@pytest.fixture(scope="module")
def real_root():
    root = os.environ.get("TENSORGRAD_DATA")
    if not root:
        pytest.skip("TENSORGRAD_DATA is not set: the real MNIST / Fashion-MNIST files "
                    "are not available")
    missing = [f"{folder}/{name}" for folder in ("mnist", "fashion-mnist") for name in MNIST.md5
               if not (Path(root) / folder / name).is_file()]
    if missing:
        pytest.skip(f"TENSORGRAD_DATA={root} lacks {', '.join(missing)}")
    return Path(root)


@pytest.fixture(scope="module")
def real_mnist(real_root):
    return (MNIST(real_root, train=True, download=False),
            MNIST(real_root, train=False, download=False))


def test_md5_tables_match_the_published_md5sums(real_root):
    for cls in (MNIST, FashionMNIST):
        listed = dict(reversed(line.split()) for line in
                      (real_root / cls.folder / "MD5SUMS").read_text().splitlines() if line.strip())
        assert listed == cls.md5
        for name, digest in cls.md5.items():
            assert dl.md5sum(real_root / cls.folder / name) == digest


def test_real_mnist(real_mnist):
    train, test = real_mnist
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    # published facts about MNIST: the first labels, the class counts, and the pixel mean and
    # standard deviation (0.1307, 0.3081) everybody normalizes with
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(train.labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918,
                                                  6265, 5851, 5949]
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                 974, 1009]
    counts = np.bincount(train.images.ravel(), minlength=256)
    values = np.arange(256) / 255.0
    mean = counts @ values / counts.sum()
    std = np.sqrt(counts @ values**2 / counts.sum() - mean**2)
    assert abs(mean - 0.1307) < 1e-4 and abs(std - 0.3081) < 1e-4
    assert train.images[0, 0, :4].max() == 0 and train.images.max() == 255  # background is 0


def test_real_fashion_mnist(real_root):
    test = FashionMNIST(real_root, train=False, download=False)
    assert test.images.shape == (10000, 1, 28, 28) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).tolist() == [1000] * 10
