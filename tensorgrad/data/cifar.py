"""Reader for CIFAR-10's "python version": pickled batches inside cifar-10-python.tar.gz.

Each batch is a dict (pickled by Python 2, so it loads with encoding="bytes") whose b"data"
is a uint8 array of shape (N, 3072), one row per 32x32 image with the red, green and blue
planes one after the other, and whose b"labels" is a list of N class ids in 0..9. The
unpickler only resolves the three NumPy names an array needs, so a batch cannot run code.
"""
from __future__ import annotations

import io
import os
import pickle
import tarfile

import numpy as np

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
_FOLDER = "cifar-10-batches-py"
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
    images, labels = batch[b"data"], np.asarray(batch[b"labels"])
    row = int(np.prod(_SHAPE))
    if not (isinstance(images, np.ndarray) and images.dtype == np.uint8 and images.ndim == 2
            and images.shape[1] == row):
        kind = (f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray)
                else type(images).__name__)
        raise CIFARError(f"{name}: b'data' must be a uint8 array of shape (N, {row}), got {kind}")
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
        raise CIFARError(f"{name}: b'labels' must be {len(images)} integers (one per image), "
                         f"got {labels.dtype} {labels.shape}")
    if labels.size and not (labels.min() >= 0 and labels.max() <= 9):
        raise CIFARError(f"{name}: labels must be in 0..9, got {labels.min()}..{labels.max()}")
    return images.reshape((-1,) + _SHAPE), labels.astype(np.int64)


def read_cifar_tar(path, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Read the training batches (data_batch_1..5) or the test batch from the published
    cifar-10-python.tar.gz, without extracting it. Raises `CIFARError` naming the archive
    when a batch is missing or malformed."""
    path = os.fspath(path)
    wanted = TRAIN_BATCHES if train else TEST_BATCHES
    found = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:  # one pass in archive order: no seeking in the gzip stream
                folder, _, name = member.name.rpartition("/")
                if folder == _FOLDER and name in wanted and member.isfile():
                    found[name] = read_cifar_batch(tar.extractfile(member).read(),
                                                   f"{path}:{member.name}")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise CIFARError(f"{path}: corrupted or truncated archive ({e})") from None
    missing = [f"{_FOLDER}/{name}" for name in wanted if name not in found]
    if missing:
        raise CIFARError(f"{path}: archive lacks {', '.join(missing)}")
    images, labels = zip(*(found[name] for name in wanted))
    return np.concatenate(images), np.concatenate(labels)
