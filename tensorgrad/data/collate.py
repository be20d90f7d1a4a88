"""`default_collate`: a list of samples into one batch, as PyTorch's DataLoader does it.

Tensors and ndarrays are stacked along a new first axis into a Tensor (dtype kept), Python
ints become an int64 Tensor, floats a float64 Tensor, NumPy scalars a Tensor of their dtype,
strings stay a list; dicts, namedtuples, tuples and lists are collated field by field,
recursively (a tuple of fields becomes a list, as in PyTorch).
"""
from __future__ import annotations

import collections.abc
import copy
import numbers

import numpy as np

from ..tensor import Tensor


def default_collate(batch):
    """Stack a list of samples (all of one structure) into a batch."""
    if not isinstance(batch, collections.abc.Sequence) or len(batch) == 0:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got "
                        f"{type(batch).__name__}{'' if batch else ' (empty)'}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor(_stack([t.data for t in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUSV":
            raise TypeError(f"default_collate: cannot batch ndarrays of dtype {elem.dtype}")
        return Tensor(_stack(batch))
    if isinstance(elem, (np.number, np.bool_)):
        return Tensor(np.array(batch))
    if isinstance(elem, (bool, int)) and not isinstance(elem, np.generic):
        return Tensor(np.array(batch, dtype=np.bool_ if isinstance(elem, bool) else np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        if isinstance(elem, collections.abc.MutableMapping):  # keeps the mapping's type
            out = copy.copy(elem)
            out.update(fields)
            return out
        return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(f)) for f in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError(f"default_collate: each sample must have the same length, got "
                               f"lengths {sorted({len(sample) for sample in batch})}")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: samples must be Tensors, ndarrays, numbers, strings, "
                    f"dicts or sequences of them, got {type(elem).__name__}")


def _stack(arrays: list) -> np.ndarray:
    try:
        return np.stack(arrays)
    except ValueError:
        shapes = sorted({a.shape for a in arrays})
        raise RuntimeError(f"default_collate: cannot stack samples of different shapes "
                           f"{shapes}; pad them or pass a collate_fn") from None
