"""Datasets, their file formats and downloads, batching and augmentation.

    from tensorgrad.data import MNIST, DataLoader, transforms
    ds = MNIST(train=True)                       # uint8 (60000, 1, 28, 28), int64 labels
    for x, y in DataLoader(ds, batch_size=64, shuffle=True, seed=0):
        ...                                      # x float32 in [0, 1], y int64
"""
from . import transforms
from .cifar import CIFARError, read_cifar_batch, read_cifar_tar
from .datasets import CIFAR10, MNIST, FashionMNIST, TensorDataset
from .download import ChecksumError, Remote, data_root, md5sum
from .idx import IDXError, read_idx, write_idx
from .loader import DataLoader

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "TensorDataset", "DataLoader", "transforms",
           "read_idx", "write_idx", "IDXError", "read_cifar_batch", "read_cifar_tar",
           "CIFARError", "ChecksumError", "Remote", "data_root", "md5sum"]
