"""`DataLoader`: batches from a map-style dataset, as PyTorch's `torch.utils.data.DataLoader`.

A batch sampler (by default `BatchSampler` over a `SequentialSampler`, or a `RandomSampler`
with shuffle=True) gives each batch's indices; the samples are fetched and stacked by
`collate_fn` (`default_collate`). A dataset held as arrays (`TensorDataset`, MNIST,
FashionMNIST, CIFAR10 without per-item transforms, `Subset`s of them) is batched by one
fancy index per array instead, with no per-sample work: the fast path.
"""
from __future__ import annotations

import numpy as np

from ..random import new_generator
from ..tensor import Tensor
from .collate import default_collate
from .datasets import Subset, TensorDataset, check_arrays
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .transforms import state_of


class DataLoader:
    """Iterate over a dataset in batches.

    dataset: any map-style dataset (`__getitem__` and `__len__`), or any object with `images`
    (N, ...) and `labels` (N,) arrays. Arguments as PyTorch's: `batch_size`, `shuffle`,
    `sampler` (any iterable of indices with `__len__`, e.g. `DistributedSampler`; read once
    per epoch and checked: it excludes shuffle=True),
    `batch_sampler` (iterable of index lists; excludes batch_size, shuffle, sampler and
    drop_last), `collate_fn`, `drop_last`, `generator` (the shuffling generator: a
    np.random.Generator or an int seed; `seed` is the same). `num_workers`, `pin_memory`,
    `timeout`, `worker_init_fn`, `multiprocessing_context`, `prefetch_factor`,
    `persistent_workers` and `pin_memory_device` are accepted and ignored: samples are always
    loaded in this process (see docs/porting.md for the measurement behind that choice).

    Each batch is `collate_fn([dataset[i] for i in indices])` (or `dataset.__getitems__
    (indices)` when the dataset has it, as in PyTorch). Without a collate_fn, a dataset held
    as arrays (see `array_source`) is instead gathered with one fancy index per array: a
    list of Tensors, the same values `default_collate` would stack, except that uint8 images
    of an (images, labels) dataset become float32 in [0, 1] (what `ToTensor` does per item)
    and pass through `transform` (a batch transform: ndarray (N, C, H, W) in and out).

    With shuffle=True every `iter()` draws a new permutation from the loader's own
    `generator`, built from `seed` or, when it is None, seeded from tensorgrad's global
    generator. `state_dict()` records that generator, the batch transform's generators and
    how many batches of the current epoch were taken, so a loader given it by
    `load_state_dict` continues bit-for-bit: mid-epoch, its next `iter()` replays the same
    permutation from the next batch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers: bool = False, pin_memory_device: str = "", seed=None,
                 transform=None):
        self.dataset = dataset
        self._source = _map_style(dataset)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
                or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
        if shuffle not in (None, True, False):
            raise TypeError(f"DataLoader: shuffle must be a bool, got {shuffle!r}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give the shuffling generator as seed= or generator=, "
                             "not both")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, "
                             "shuffle, sampler and drop_last")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other (the "
                             "sampler fixes the order; shuffle in the sampler)")
        if transform is not None and array_source(self._source) is None:
            raise TypeError("DataLoader: transform= is a batch transform for datasets held as "
                            "arrays; give per-item transforms to the dataset (transform=...)")
        if sampler is None:
            sampler = (RandomSampler(self._source, generator=new_generator(
                generator if seed is None else seed)) if shuffle
                       else SequentialSampler(self._source))
        self._own_batches = batch_sampler is None  # then the sampler's indices are checked
        if batch_sampler is None:
            batch_sampler = BatchSampler(sampler, int(batch_size), drop_last)
            self.batch_size = int(batch_size)
        else:
            self.batch_size = None
        self.sampler, self.batch_sampler, self.drop_last = sampler, batch_sampler, drop_last
        self.shuffle = bool(shuffle)
        self.collate_fn, self.transform = collate_fn, transform
        self.num_workers, self.pin_memory = int(num_workers), pin_memory
        self._epoch = None   # [generator state before this epoch's draw, batches taken]
        self._resume = 0     # batches to skip in the next epoch (set by load_state_dict)

    @property
    def generator(self):
        """The sampler's np.random.Generator (None for an order that is not random)."""
        generator = getattr(self.sampler, "generator", None)
        return generator if isinstance(generator, np.random.Generator) else None

    @property
    def images(self) -> np.ndarray:
        """The dataset's images (for a dataset of images and labels)."""
        return self._source.images

    @property
    def labels(self) -> np.ndarray:
        """The dataset's labels (for a dataset of images and labels)."""
        return self._source.labels

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        return len(self.batch_sampler)

    def __iter__(self):
        start, self._resume = self._resume, 0
        self._epoch = epoch = [self._rng_state(), start]
        if self._own_batches:
            batches = self.batch_sampler.batches_of(self._sampled_order())
        else:
            batches = iter(self.batch_sampler)
        return self._batches(batches, epoch)

    def _sampled_order(self) -> list:
        """This epoch's indices from the sampler (a random order is drawn now), checked
        against its len() and, for integer indices, the dataset's length."""
        order, n = list(self.sampler), len(self._source)
        if len(order) != len(self.sampler):
            raise ValueError(f"DataLoader: the sampler gave {len(order)} indices but its "
                             f"len() is {len(self.sampler)}")
        array = np.asarray(order)
        if array.dtype.kind in "iu" and len(array) and (array.min() < 0 or array.max() >= n):
            bad = array[(array < 0) | (array >= n)][0]
            raise IndexError(f"DataLoader: the sampler gave index {bad} for a dataset of "
                             f"{n} samples")
        return order

    def _batches(self, indices, epoch: list):
        fetch = self._fetcher()
        for i, index in enumerate(indices):
            if i >= epoch[1]:
                batch = fetch(index)
                epoch[1] = i + 1
                yield batch

    def _fetcher(self):
        source = None if self.collate_fn is not None else array_source(self._source)
        if source is not None:
            return lambda index: self._gather(*source, index)
        dataset, collate = self._source, self.collate_fn or default_collate
        if getattr(dataset, "__getitems__", None):
            return lambda index: collate(dataset.__getitems__(index))
        return lambda index: collate([dataset[i] for i in index])

    def _gather(self, arrays, index_map, scale, index):
        index = np.asarray(index) if index_map is None else index_map[index]
        batch = [array[index] for array in arrays]
        if scale:
            batch[0] = np.divide(batch[0], np.float32(255), dtype=np.float32)
        if self.transform is not None:
            batch[0] = self.transform(batch[0])
        return [Tensor(array) for array in batch]

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
                             f"{state['rng'] is not None}, this one has shuffle="
                             f"{self.generator is not None}")
        if state["rng"] is not None:
            self.generator.bit_generator.state = state["rng"]
        if state["transform"] is not None:
            self.transform.load_state_dict(state["transform"])
        self._epoch = [state["rng"], state["batch"]]
        self._resume = state["batch"]


def get_worker_info():
    """None, as PyTorch's in its main process: samples are always loaded in this process."""
    return None


def _map_style(dataset):
    """The dataset itself when it is map-style, else a TensorDataset of its images and labels."""
    if hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__"):
        return dataset
    if hasattr(dataset, "images") and hasattr(dataset, "labels"):
        return TensorDataset(*check_arrays(dataset.images, dataset.labels, "DataLoader"))
    raise TypeError(f"DataLoader: the dataset must be map-style (define __getitem__ and "
                    f"__len__) or have `images` and `labels` arrays, got {type(dataset).__name__}")


def array_source(dataset):
    """(arrays, index map or None, whether to scale uint8 images) when `dataset[i]` is
    `[a[i] for a in arrays]` (after the index map of any `Subset`s around it) with no
    per-item work; else None."""
    index_map = None
    while isinstance(dataset, Subset):
        indices = np.asarray(dataset.indices, dtype=np.int64)
        index_map = indices if index_map is None else indices[index_map]
        dataset = dataset.dataset
    if not (isinstance(dataset, TensorDataset) and dataset.held_as_arrays()):
        return None
    arrays = dataset.tensors
    return arrays, index_map, len(arrays) == 2 and arrays[0].dtype == np.uint8
