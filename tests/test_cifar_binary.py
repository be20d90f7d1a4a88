"""CIFAR-10's binary version: the reader byte for byte on the 1,000 exact official test images
(published SHA-256 digests, labels and class counts), the MD5SUMS rules for a folder of
batches, a test-only folder, the binary archive, and damaged batches."""
import hashlib
import io
import os
import pathlib
import tarfile

import numpy as np
import pytest

from tensorgrad.data import CIFAR10, ChecksumError, CIFARError
from tensorgrad.data.cifar import read_cifar_bin, read_cifar_bin_tar

DATA = os.environ.get("TENSORGRAD_DATA")
EXACT = pathlib.Path(DATA or "/nonexistent") / "cifar10-exact-test1000"
JPEG = pathlib.Path(DATA or "/nonexistent") / "cifar10-jpeg"
needs_exact = pytest.mark.skipif(not EXACT.is_dir(), reason="TENSORGRAD_DATA has no "
                                 "cifar10-exact-test1000/ (the shared data folder)")
needs_jpeg = pytest.mark.skipif(not JPEG.is_dir(), reason="TENSORGRAD_DATA has no cifar10-jpeg/")

# From the data README: test index -> (label, SHA-256 of the 32x32x3 HWC uint8 bytes).
PUBLISHED = {
    0: (3, "af12e1241a1e7a0c9ba326825279bef5fe961ceb5f95212a99f9b1f22711f913"),
    1: (8, "df20a6f4102c83a7464ad1e47b60fb267ab02e970e13a081e95b223770f5a206"),
    3: (0, "e5fcaa9fcb576b0b987f1f26526f5d22d3772f86e10879d3679bf5ee7275c22b"),
    4: (6, "1a0f09360e4f0848b5ab172cef39ad2e363f044467b01234e57ea83854246e73"),
    6: (1, "b5f3208ae1e44485de30b7f1fe6ab78b71fbde7243549ee53320a8a0dc56ba1f"),
    11: (9, "fe16b75a074dc51896b1a7d6c5421d781e51d76aae559a1c42896652103eddbd"),
    12: (5, "3dc597d07305887d229fe237847e86d84d38829dd481024383886b5091da35e9"),
    13: (7, "0f4e4314cb4faf4744f289486e4e3ac79beab51a8abc9e4a3f44a602bfe73e7f"),
    22: (4, "bf508685de95147ca5c33e7c0fc2b6ef4be13630e601579f991912e4057ede94"),
    25: (2, "92329e7a23c326d350fa9ffbca4cc00a8a3bbb1f13ae34e612d27437432503c9"),
}


@needs_exact
def test_reader_matches_the_published_digests_labels_and_class_counts():
    ds = CIFAR10(EXACT, train=False, download=False)
    assert ds.images.shape == (1000, 3, 32, 32) and ds.images.dtype == np.uint8
    for index, (label, digest) in PUBLISHED.items():
        hwc = np.ascontiguousarray(ds.images[index].transpose(1, 2, 0))
        assert hashlib.sha256(hwc.tobytes()).hexdigest() == digest, f"test image {index}"
        assert ds.labels[index] == label, f"label of test image {index}"
    assert np.bincount(ds.labels).tolist() == [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]
    assert "local copy in" in repr(ds) and "MD5SUMS" in repr(ds)


@needs_exact
def test_a_test_only_folder_has_no_training_set():
    with pytest.raises(CIFARError, match=r"the CIFAR-10 training set needs data_batch_1.bin, .*"
                                         "which the folder lacks"):
        CIFAR10(EXACT, train=True, download=False)


@needs_jpeg
def test_the_jpeg_copy_reads_in_the_official_training_order():
    ds = CIFAR10(JPEG, train=True, download=False)
    assert len(ds) == 50_000
    assert np.bincount(ds.labels[:10_000]).tolist() == [1005, 974, 1032, 1016, 999, 937, 1030,
                                                        1001, 1025, 981]


def records(labels, seed=0):
    """Binary-version bytes for images with the given labels, and the images."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (len(labels), 3, 32, 32), dtype=np.uint8)
    data = np.concatenate([np.asarray(labels, np.uint8)[:, None], images.reshape(len(labels), -1)],
                          axis=1)
    return data.tobytes(), images


def write_folder(folder, sums=True, train=True):
    folder.mkdir(exist_ok=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else []
    written = {}
    for i, name in enumerate(names + ["test_batch.bin"]):
        data, images = records([i % 10, (i + 3) % 10], seed=i)
        (folder / name).write_bytes(data)
        written[name] = images
    if sums:
        (folder / "MD5SUMS").write_text("".join(
            f"{hashlib.md5((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in written))
    return written


def test_a_folder_with_matching_md5sums_is_read_in_batch_order(tmp_path):
    written = write_folder(tmp_path / "bins")
    train = CIFAR10(tmp_path / "bins")
    expected = np.concatenate([written[f"data_batch_{i}.bin"] for i in range(1, 6)])
    np.testing.assert_array_equal(train.images, expected)
    assert train.labels.tolist() == [0, 3, 1, 4, 2, 5, 3, 6, 4, 7]
    assert train.labels.dtype == np.int64
    np.testing.assert_array_equal(CIFAR10(tmp_path / "bins", train=False).images,
                                  written["test_batch.bin"])


def test_a_folder_without_md5sums_is_refused(tmp_path):
    write_folder(tmp_path / "bins", sums=False)
    with pytest.raises(CIFARError, match="holds CIFAR-10 batches but no MD5SUMS"):
        CIFAR10(tmp_path / "bins")


def test_a_changed_file_is_refused(tmp_path):
    write_folder(tmp_path / "bins")
    path = tmp_path / "bins" / "data_batch_3.bin"
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match=r"data_batch_3.bin has MD5 \w+ but .*MD5SUMS says"):
        CIFAR10(tmp_path / "bins")
    CIFAR10(tmp_path / "bins", train=False)  # the test batch is still fine


def test_a_batch_missing_from_md5sums_is_refused(tmp_path):
    write_folder(tmp_path / "bins")
    sums = tmp_path / "bins" / "MD5SUMS"
    sums.write_text("".join(l + "\n" for l in sums.read_text().splitlines() if "test" not in l))
    with pytest.raises(CIFARError, match="MD5SUMS does not list test_batch.bin"):
        CIFAR10(tmp_path / "bins", train=False)


def test_damaged_batches_name_the_file():
    data, _ = records([1, 2])
    with pytest.raises(CIFARError, match=r"b.bin: 6145 bytes is not a whole number of 3073-byte"):
        read_cifar_bin(data[:-1], "b.bin")
    bad = bytearray(data)
    bad[3073] = 12
    with pytest.raises(CIFARError, match="b.bin: record 1 has label 12; labels must be in 0..9"):
        read_cifar_bin(bytes(bad), "b.bin")
    with pytest.raises(CIFARError, match="0 bytes is not a whole number"):
        read_cifar_bin(b"", "b.bin")


def binary_archive(path):
    written = {}
    with tarfile.open(path, "w:gz") as tar:
        for i, name in enumerate([f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]):
            data, images = records([i, 9 - i], seed=10 + i)
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            written[name] = images
    return written


def test_the_binary_archive_is_read_and_checked_against_its_official_md5(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10"
    folder.mkdir()
    path = folder / "cifar-10-binary.tar.gz"
    written = binary_archive(path)
    train, labels = read_cifar_bin_tar(path, train=True)
    assert train.shape == (10, 3, 32, 32) and labels.tolist() == [0, 9, 1, 8, 2, 7, 3, 6, 4, 5]
    with pytest.raises(ChecksumError, match="c32a1d4ab5d03f1284b67883e8d87530"):
        CIFAR10(tmp_path)  # not the official archive
    monkeypatch.setattr(CIFAR10, "binary_remote",
                        CIFAR10.binary_remote._replace(md5=hashlib.md5(path.read_bytes()).hexdigest()))
    test = CIFAR10(tmp_path, train=False)
    np.testing.assert_array_equal(test.images, written["test_batch.bin"])
    assert "official archive" in repr(test)
