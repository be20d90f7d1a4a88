"""Datasets, their file formats and downloads, batching and augmentation; PyTorch's
`torch.utils.data` names (also importable as `tensorgrad.utils.data`).

    from tensorgrad.data import MNIST, DataLoader, transforms
    ds = MNIST(train=True)                       # uint8 (60000, 1, 28, 28), int64 labels
    for x, y in DataLoader(ds, batch_size=64, shuffle=True, seed=0):
        ...                                      # x float32 in [0, 1], y int64

    ds = MNIST(train=True, transform=transforms.ToTensor())    # the PyTorch way, per item
    for x, y in DataLoader(ds, batch_size=64, shuffle=True):   # the same batches
        ...
"""
from . import transforms
from .cifar import CIFARError, read_cifar_batch, read_cifar_tar
from .collate import default_collate
from .datasets import (CIFAR10, MNIST, Dataset, FashionMNIST, Subset, TensorDataset,
                       VisionDataset, random_split)
from .distributed import DistributedSampler
from .download import ChecksumError, Remote, data_root, md5sum
from .idx import IDXError, read_idx, write_idx
from .loader import DataLoader, get_worker_info
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler)

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "Dataset", "TensorDataset", "Subset",
           "VisionDataset", "random_split", "DataLoader", "default_collate", "get_worker_info",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "BatchSampler", "DistributedSampler", "transforms", "read_idx", "write_idx",
           "IDXError", "read_cifar_batch", "read_cifar_tar", "CIFARError", "ChecksumError",
           "Remote", "data_root", "md5sum"]
