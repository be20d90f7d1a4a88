"""Readers for CIFAR-10's two published versions.

The "python version" (cifar-10-python.tar.gz) holds pickled batches: each a dict (pickled by
Python 2, so it loads with encoding="bytes") whose b"data" is a uint8 array of shape
(N, 3072), one row per 32x32 image with the red, green and blue planes one after the other,
and whose b"labels" is a list of N class ids in 0..9. The unpickler only resolves the three
NumPy names an array needs, so a batch cannot run code.

The "binary version" (cifar-10-binary.tar.gz, folder cifar-10-batches-bin) holds
data_batch_1.bin ... data_batch_5.bin and test_batch.bin: 3,073-byte records, one label byte
then the same 3,072 pixel bytes. It is read from the archive, or from a folder of .bin files
when an MD5SUMS file beside them lists their checksums (a copy that is not the official
archive is used only when its files match the checksums kept with it).
"""
from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

from .download import ChecksumError, md5sum

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
_FOLDER = "cifar-10-batches-py"
_BIN_FOLDER = "cifar-10-batches-bin"
_RECORD = 1 + 3 * 32 * 32
_SHAPE = (3, 32, 32)
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype")}


class CIFARError(ValueError):
    """A CIFAR-10 archive or batch that does not have the published layout."""


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR batch "
                                         f"holds only NumPy arrays, lists and strings")
        return super().find_class(module, name)


def read_cifar_batch(data: bytes, name: str = "batch") -> tuple[np.ndarray, np.ndarray]:
    """Parse one pickled batch: images uint8 (N, 3, 32, 32) and labels int64 (N,).
    Raises `CIFARError` naming the batch when its contents do not have that layout."""
    try:
        batch = _ArrayUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as e:  # any malformed pickle: report which batch, keep the cause
        raise CIFARError(f"{name}: not a readable CIFAR batch ({e})") from e
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise CIFARError(f"{name}: expected a dict with b'data' and b'labels', got "
                         f"{type(batch).__name__}")
    images, labels = batch[b"data"], batch[b"labels"]
    row = int(np.prod(_SHAPE))
    if not (isinstance(images, np.ndarray) and images.dtype == np.uint8 and images.ndim == 2
            and images.shape[1] == row):
        kind = (f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray)
                else type(images).__name__)
        raise CIFARError(f"{name}: b'data' must be a uint8 array of shape (N, {row}), got {kind}")
    try:
        labels = np.asarray(labels)
    except (ValueError, TypeError):  # ragged nested lists
        raise CIFARError(f"{name}: b'labels' must be {len(images)} integers (one per image), "
                         f"got a {type(labels).__name__} of unevenly nested values") from None
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        raise CIFARError(f"{name}: b'labels' must be {len(images)} integers (one per image), "
                         f"got {labels.dtype} {labels.shape}")
    if labels.size and not (labels.min() >= 0 and labels.max() <= 9):
        raise CIFARError(f"{name}: labels must be in 0..9, got {labels.min()}..{labels.max()}")
    return images.reshape((-1,) + _SHAPE), labels.astype(np.int64)


# The MD5s of the batches extracted from cifar-10-python.tar.gz (torchvision checks the same)
PYTHON_BATCH_MD5 = {"data_batch_1": "c99cafc152244af753f735de768cd75f",
                    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
                    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
                    "data_batch_4": "634d18415352ddfa80567beed471001a",
                    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
                    "test_batch": "40351d587109b95175f43aff81a1287e"}


def read_cifar_py_folder(folder, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Read the training or test batches extracted from cifar-10-python.tar.gz (the folder
    cifar-10-batches-py, as torchvision leaves it), each checked against its official MD5
    (`ChecksumError` when one differs)."""
    folder = Path(folder)
    batches = []
    for name in TRAIN_BATCHES if train else TEST_BATCHES:
        actual = md5sum(folder / name)
        if actual != PYTHON_BATCH_MD5[name]:
            raise ChecksumError(f"{folder / name} has MD5 {actual} but the published batch's "
                                f"MD5 is {PYTHON_BATCH_MD5[name]}: the file is damaged or a "
                                "different file")
        batches.append(read_cifar_batch((folder / name).read_bytes(), str(folder / name)))
    images, labels = zip(*batches)
    return np.concatenate(images), np.concatenate(labels)


def has_python_batches(folder, train: bool = True) -> bool:
    """Whether folder holds the extracted python-version batches of the training or test set."""
    return all((Path(folder) / name).is_file() for name in (TRAIN_BATCHES if train
                                                             else TEST_BATCHES))


def read_cifar_tar(path, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Read the training batches (data_batch_1..5) or the test batch from the published
    cifar-10-python.tar.gz, without extracting it. Raises `CIFARError` naming the archive
    when a batch is missing or malformed."""
    return _read_tar(path, _FOLDER, TRAIN_BATCHES if train else TEST_BATCHES, read_cifar_batch)


def _read_tar(path, folder: str, wanted: tuple, parse) -> tuple[np.ndarray, np.ndarray]:
    """Parse the members folder/<name> for each wanted name, in one pass in archive order
    (no seeking in the gzip stream), and join them in the order of `wanted`."""
    path = os.fspath(path)
    found = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                parent, _, name = member.name.rpartition("/")
                if parent == folder and name in wanted and member.isfile():
                    found[name] = parse(tar.extractfile(member).read(), f"{path}:{member.name}")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise CIFARError(f"{path}: corrupted or truncated archive ({e})") from None
    missing = [f"{folder}/{name}" for name in wanted if name not in found]
    if missing:
        raise CIFARError(f"{path}: archive lacks {', '.join(missing)}")
    images, labels = zip(*(found[name] for name in wanted))
    return np.concatenate(images), np.concatenate(labels)


def read_cifar_bin(data: bytes, name: str = "batch") -> tuple[np.ndarray, np.ndarray]:
    """Parse one binary-version batch: images uint8 (N, 3, 32, 32) and labels int64 (N,).
    Raises `CIFARError` naming the batch when it is not a whole number of records or holds a
    label outside 0..9."""
    if not data or len(data) % _RECORD:
        raise CIFARError(f"{name}: {len(data)} bytes is not a whole number of {_RECORD}-byte "
                         "CIFAR-10 records (truncated or not a CIFAR-10 binary batch)")
    records = np.frombuffer(data, np.uint8).reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise CIFARError(f"{name}: record {bad} has label {labels[bad]}; labels must be in 0..9 "
                         "(not a CIFAR-10 binary batch, or damaged)")
    return records[:, 1:].reshape((-1,) + _SHAPE), labels


def binary_batch_names(train: bool, folder=None) -> tuple[str, ...]:
    """The .bin files of the training set, or of the test set: test_batch.bin, or in a
    folder without it, its one test_batch*.bin file (e.g. a subset of the test set)."""
    if train:
        return tuple(f"{name}.bin" for name in TRAIN_BATCHES)
    if folder is not None and not (Path(folder) / "test_batch.bin").exists():
        found = sorted(p.name for p in Path(folder).glob("test_batch*.bin"))
        if len(found) == 1:
            return (found[0],)
    return ("test_batch.bin",)


def has_binary_batches(folder) -> bool:
    """Whether folder holds CIFAR-10 binary-version batch files."""
    folder = Path(folder)
    return folder.is_dir() and any(folder.glob("*_batch*.bin"))


def read_cifar_bin_folder(folder, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Read the training or test batches from a folder of .bin files, after checking each
    against the MD5SUMS file beside it (`md5sum`'s format). Raises `CIFARError` when a file
    or MD5SUMS is missing, and `ChecksumError` when a file does not match."""
    folder = Path(folder)
    names = binary_batch_names(train, folder)
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        split = "training" if train else "test"
        raise CIFARError(f"{folder}: the CIFAR-10 {split} set needs {', '.join(missing)}, "
                         "which the folder lacks")
    sums = read_md5sums(folder)
    for name in names:
        if name not in sums:
            raise CIFARError(f"{folder}/MD5SUMS does not list {name}: a folder of CIFAR-10 "
                             "batches is used only when MD5SUMS lists every batch")
        actual = md5sum(folder / name)
        if actual != sums[name]:
            raise ChecksumError(f"{folder / name} has MD5 {actual} but {folder}/MD5SUMS says "
                                f"{sums[name]}: the file is damaged or was changed")
    batches = [read_cifar_bin((folder / n).read_bytes(), str(folder / n)) for n in names]
    images, labels = zip(*batches)
    return np.concatenate(images), np.concatenate(labels)


def read_md5sums(folder) -> dict:
    """{file name: MD5} from folder/MD5SUMS (lines "<md5>  <name>", as md5sum writes)."""
    path = Path(folder) / "MD5SUMS"
    if not path.is_file():
        raise CIFARError(f"{folder} holds CIFAR-10 batches but no MD5SUMS: a folder of batches "
                         "is used only when an MD5SUMS file beside them lists their checksums "
                         "(write one with `md5sum *.bin > MD5SUMS` if you trust the files), "
                         "or use the official cifar-10-binary.tar.gz")
    sums = {}
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or len(parts[0]) != 32:
            raise CIFARError(f"{path}: line {number} is not '<md5>  <file name>': {line!r}")
        sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def read_cifar_bin_tar(path, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Read the training or test batches from the published cifar-10-binary.tar.gz, without
    extracting it. Raises `CIFARError` naming the archive when a batch is missing or
    malformed."""
    return _read_tar(path, _BIN_FOLDER, binary_batch_names(train), read_cifar_bin)
