"""`DistributedSampler`: each rank's share of a dataset, PyTorch's rules::

    sampler = DistributedSampler(ds, shuffle=True, seed=0)
    loader = DataLoader(ds, batch_size=32, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)          # a new permutation each epoch, the same on all ranks
        for x, y in loader: ...
"""
from __future__ import annotations

import math

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of rank `rank`'s shard of `dataset` among `num_replicas` ranks (default:
    the default process group's size and this process's rank).

    Every rank draws the same order, a permutation of range(len(dataset)) from a NumPy
    generator seeded with seed + epoch when shuffling (otherwise 0, 1, 2, ...), and takes
    every num_replicas-th index of it from position rank, so the shards are disjoint and of
    equal size. When len(dataset) is not a multiple of num_replicas, drop_last=False pads
    the order by repeating its start (some samples are seen twice in an epoch),
    drop_last=True drops its tail, exactly as torch.utils.data.DistributedSampler does
    (whose permutation comes from torch's own generator, so the orders themselves differ).
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, (int, np.integer)) \
                or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got "
                             f"{num_replicas!r}")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) \
                or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in [0, {num_replicas - 1}] "
                             f"for {num_replicas} replicas, got {rank!r}")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = shuffle, int(seed), drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of this epoch (call it before each epoch's iteration)."""
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an int64 array."""
        n = len(self.dataset)
        order = np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle \
            else np.arange(n)
        if self.total_size > n:   # pad with the start of the order, repeated if need be
            order = np.resize(order, self.total_size)
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples
