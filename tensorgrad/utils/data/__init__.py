"""`torch.utils.data`'s names, so `from tensorgrad.utils.data import DataLoader` ports a
PyTorch script: the same objects as `tensorgrad.data`'s."""
from ...data import (BatchSampler, DataLoader, Dataset, DistributedSampler, RandomSampler,
                     Sampler, SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                     default_collate, get_worker_info, random_split)

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader",
           "default_collate", "get_worker_info", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "BatchSampler", "DistributedSampler"]
