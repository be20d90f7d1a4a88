"""Samplers: the order in which a `DataLoader` visits a dataset's indices, as PyTorch's
`torch.utils.data` samplers. A sampler is any iterable of indices (with `__len__`);
`BatchSampler` groups one into lists of indices, the batches.

Random samplers own a `np.random.Generator` (`generator=`: an int seed, a Generator, or None
for one seeded from tensorgrad's global generator, so `tg.manual_seed` makes it
reproducible); each `iter()` draws a new order from it.
"""
from __future__ import annotations

import numpy as np

from ..random import new_generator


def _check_count(value, who: str, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{who}: {name} must be an int >= {low}, got {value!r}")
    return int(value)


class Sampler:
    """Base class: subclasses define `__iter__` (indices) and usually `__len__`."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices (or, with replacement=True, `num_samples` indices
    drawn independently). The order is drawn when `iter()` is called."""

    def __init__(self, data_source, replacement: bool = False, num_samples=None,
                 generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement must be a bool, got {replacement!r}")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples = (None if num_samples is None
                             else _check_count(num_samples, "RandomSampler", "num_samples"))
        self.generator = new_generator(generator)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.replacement:
            order = self.generator.integers(0, n, size=self.num_samples)
        else:
            order = self.generator.permutation(n)
            if self._num_samples is not None:  # as PyTorch: whole permutations, then a part
                extra = [self.generator.permutation(n) for _ in range(self.num_samples // n)]
                order = np.concatenate([order, *extra])[:self.num_samples]
        return iter(order.tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, a new one at each `iter()`."""

    def __init__(self, indices, generator=None):
        self.indices = list(indices)
        self.generator = new_generator(generator)

    def __iter__(self):
        order = self.generator.permutation(len(self.indices))
        return iter([self.indices[i] for i in order])

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Lists of `batch_size` consecutive indices from `sampler`; the last one shorter unless
    drop_last=True."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.sampler = sampler
        self.batch_size = _check_count(batch_size, "BatchSampler", "batch_size")
        if not isinstance(drop_last, bool):
            raise TypeError(f"BatchSampler: drop_last must be a bool, got {drop_last!r}")
        self.drop_last = drop_last

    def __iter__(self):
        return self.batches_of(list(self.sampler))  # a random order is drawn now

    def batches_of(self, indices: list):
        """The batches of a list of indices, as this sampler groups its sampler's."""
        size = self.batch_size
        stop = len(indices) - len(indices) % size if self.drop_last else len(indices)
        return (indices[start:start + size] for start in range(0, stop, size))

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
