"""CIFAR-10 python-batch reader: layout, the restricted unpickler, archive handling, errors."""
import io
import os
import pickle
import re
import tarfile

import numpy as np
import pytest

from tensorgrad.data import CIFARError, read_cifar_batch, read_cifar_tar


def make_batch(images, labels, protocol=3) -> bytes:
    """A batch as published: a dict with bytes keys, data (N, 3072) uint8, labels a list."""
    batch = {b"batch_label": b"testing batch", b"labels": [int(v) for v in labels],
             b"data": images.reshape(len(images), -1),
             b"filenames": [b"img_%d.png" % i for i in range(len(images))]}
    return pickle.dumps(batch, protocol=protocol)


def random_images(n, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)


def make_tar(path, members: dict):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def cifar_archive(path, sizes=(2, 3, 1, 2, 4), test_size=3):
    """A small cifar-10-python.tar.gz; returns {batch name: (images, labels)}."""
    batches = {f"data_batch_{i + 1}": (random_images(n, i), np.arange(n) % 10)
               for i, n in enumerate(sizes)}
    batches["test_batch"] = (random_images(test_size, 9), (np.arange(test_size) + 3) % 10)
    members = {"cifar-10-batches-py/batches.meta": pickle.dumps({b"label_names": []}),
               "cifar-10-batches-py/readme.html": b"<html></html>"}
    members.update({f"cifar-10-batches-py/{name}": make_batch(*batch)
                    for name, batch in batches.items()})
    make_tar(path, members)
    return batches


def test_batch_layout_is_red_green_blue_planes():
    images = random_images(3, 0)
    labels = np.array([4, 0, 9])
    got_images, got_labels = read_cifar_batch(make_batch(images, labels))
    assert got_images.dtype == np.uint8 and got_images.shape == (3, 3, 32, 32)
    assert got_labels.dtype == np.int64
    np.testing.assert_array_equal(got_labels, labels)
    data = images.reshape(3, 3072)
    n, c, r, col = 2, 1, 5, 30
    assert got_images[n, c, r, col] == data[n, 1024 * c + 32 * r + col]
    np.testing.assert_array_equal(got_images, images)


def test_python2_numpy_module_name_resolves():
    """The published pickles name numpy.core.multiarray (NumPy 1.x), not numpy._core."""
    images = random_images(2, 1)
    data = make_batch(images, [1, 2]).replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in data
    np.testing.assert_array_equal(read_cifar_batch(data)[0], images)


class _Evil:
    def __reduce__(self):
        return os.getcwd, ()


def test_unpickler_refuses_other_globals():
    data = pickle.dumps({b"data": _Evil(), b"labels": []}, protocol=3)
    with pytest.raises(CIFARError, match="refusing to load posix.getcwd"):
        read_cifar_batch(data, "evil_batch")


@pytest.mark.parametrize("batch, message", [
    ({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]},
     "b'data' must be a uint8 array of shape (N, 3072), got uint8 (2, 3000)"),
    ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "got float32 (2, 3072)"),
    ({b"data": [1, 2], b"labels": [0, 1]}, "got list"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]},
     "b'labels' must be 2 integers (one per image), got int64 (1,)"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]},
     "labels must be in 0..9, got 0..10"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [-1, 3]},
     "labels must be in 0..9, got -1..3"),
    ({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}, "expected a dict with b'data'"),
    ([1, 2], "expected a dict with b'data' and b'labels', got list"),
])
def test_malformed_batches(batch, message):
    with pytest.raises(CIFARError, match=re.escape(message)) as info:
        read_cifar_batch(pickle.dumps(batch, protocol=3), "data_batch_7")
    assert "data_batch_7" in str(info.value)


def test_garbage_bytes():
    with pytest.raises(CIFARError, match="data_batch_1: not a readable CIFAR batch"):
        read_cifar_batch(b"\x80\x03garbage", "data_batch_1")


def test_archive_train_concatenates_batches_in_order_and_test(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    batches = cifar_archive(path)
    images, labels = read_cifar_tar(path, train=True)
    names = [f"data_batch_{i}" for i in range(1, 6)]
    np.testing.assert_array_equal(images, np.concatenate([batches[n][0] for n in names]))
    np.testing.assert_array_equal(labels, np.concatenate([batches[n][1] for n in names]))
    images, labels = read_cifar_tar(path, train=False)
    np.testing.assert_array_equal(images, batches["test_batch"][0])
    np.testing.assert_array_equal(labels, batches["test_batch"][1])


def test_archive_missing_batch(tmp_path):
    path = tmp_path / "c.tar.gz"
    make_tar(path, {f"cifar-10-batches-py/data_batch_{i}": make_batch(random_images(1, i), [i])
                    for i in (1, 2, 4, 5)})
    with pytest.raises(CIFARError, match=re.escape(f"{path}: archive lacks "
                                                   "cifar-10-batches-py/data_batch_3")):
        read_cifar_tar(path, train=True)
    with pytest.raises(CIFARError, match="lacks cifar-10-batches-py/test_batch"):
        read_cifar_tar(path, train=False)


def test_archive_bad_batch_names_member(tmp_path):
    path = tmp_path / "c.tar.gz"
    make_tar(path, {"cifar-10-batches-py/test_batch": pickle.dumps({b"data": 1}, protocol=3)})
    with pytest.raises(CIFARError, match=re.escape(f"{path}:cifar-10-batches-py/test_batch")):
        read_cifar_tar(path, train=False)


@pytest.mark.parametrize("keep", [0.5, 0.0])
def test_truncated_or_empty_archive(tmp_path, keep):
    path = tmp_path / "c.tar.gz"
    cifar_archive(path)
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(CIFARError, match=re.escape(f"{path}: corrupted or truncated archive")):
        read_cifar_tar(path, train=True)
