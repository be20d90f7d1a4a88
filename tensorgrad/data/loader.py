"""`DataLoader`: batches of (x, y) Tensors from in-memory images and labels."""
from __future__ import annotations

import numpy as np

from ..random import new_generator
from ..tensor import Tensor
from .datasets import check_arrays
from .transforms import state_of


class DataLoader:
    """Iterate over a dataset in batches of `(x, y)` Tensors.

    dataset: any object with `images` (N, ...) and `labels` (N,) arrays, e.g. `MNIST` or
    `TensorDataset(images, labels)`. x is float32 scaled to [0, 1] for uint8 images (floating
    images keep their values and dtype), then passed through `transform` (ndarray in, ndarray
    out); y is int64. Each batch is gathered with one fancy index, no per-sample loop.

    With shuffle=True every `iter()` draws a new permutation from the loader's own
    `generator`, built from `seed` (an int or a np.random.Generator) or, when seed is None,
    seeded from tensorgrad's global generator. `state_dict()` records that generator, the
    random transforms' generators and how many batches of the current epoch were taken, so
    a loader given it by `load_state_dict` continues bit-for-bit: mid-epoch, its next
    `iter()` replays the same permutation from the next batch.

    sampler: an iterable of sample indices with a length (e.g. `DistributedSampler`), read
    once per epoch into one index array; it fixes the order, so it excludes shuffle=True.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed=None, transform=None, sampler=None):
        if not (hasattr(dataset, "images") and hasattr(dataset, "labels")):
            raise TypeError(f"DataLoader: the dataset must have `images` and `labels` arrays "
                            f"(e.g. TensorDataset(images, labels)), got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other (the "
                             "sampler fixes the order; shuffle in the sampler)")
        self.dataset = dataset
        self.images, self.labels = check_arrays(dataset.images, dataset.labels, "DataLoader")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.transform, self.sampler = transform, sampler
        self.generator = new_generator(seed) if shuffle else None
        self._epoch = None   # [generator state before this epoch's draw, batches taken]
        self._resume = 0     # batches to skip in the next epoch (set by load_state_dict)

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        n = len(self.labels) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        start, self._resume = self._resume, 0
        self._epoch = epoch = [self._rng_state(), start]
        n = len(self.labels)
        if self.sampler is not None:
            order = self._sampled_order()
        else:
            order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        return self._batches(order, epoch)

    def _sampled_order(self) -> np.ndarray:
        order = np.fromiter(self.sampler, dtype=np.int64)
        n = len(self.labels)
        if len(order) != len(self.sampler):
            raise ValueError(f"DataLoader: the sampler gave {len(order)} indices but its "
                             f"len() is {len(self.sampler)}")
        if len(order) and (order.min() < 0 or order.max() >= n):
            bad = order[(order < 0) | (order >= n)][0]
            raise IndexError(f"DataLoader: the sampler gave index {bad} for a dataset of "
                             f"{n} samples")
        return order

    def _batches(self, order: np.ndarray, epoch: list):
        size = self.batch_size
        for i in range(epoch[1], len(self)):
            index = order[i * size:(i + 1) * size]
            x = self.images[index]
            if x.dtype == np.uint8:
                x = np.divide(x, np.float32(255), dtype=np.float32)
            if self.transform is not None:
                x = self.transform(x)
            epoch[1] = i + 1
            yield Tensor(x), Tensor(self.labels[index])

    def _rng_state(self):
        return None if self.generator is None else self.generator.bit_generator.state

    def state_dict(self) -> dict:
        """Plain values: the shuffling generator's state ("rng", None without shuffle), the
        batches taken in an unfinished epoch ("batch") and the transform's state."""
        if self._epoch is not None and self._epoch[1] < len(self):
            rng, batch = self._epoch
        else:
            rng, batch = self._rng_state(), 0
        return {"rng": rng, "batch": batch, "transform": state_of(self.transform)}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state from `state_dict`."""
        if not 0 <= state["batch"] <= len(self):
            raise ValueError(f"DataLoader: the state is at batch {state['batch']} but an epoch "
                             f"here has {len(self)} batches")
        if (state["rng"] is None) != (self.generator is None):
            raise ValueError(f"DataLoader: the state comes from a loader with shuffle="
                             f"{state['rng'] is not None}, this one has shuffle={self.shuffle}")
        if state["rng"] is not None:
            self.generator.bit_generator.state = state["rng"]
        if state["transform"] is not None:
            self.transform.load_state_dict(state["transform"])
        self._epoch = [state["rng"], state["batch"]]
        self._resume = state["batch"]
