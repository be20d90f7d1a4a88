"""The (values, indices) named tuples that max/min/sort/topk/median along a dim return, with
PyTorch's names (``torch.return_types.max`` ...): ``out.values``, ``out.indices`` or
``values, indices = out``."""
from __future__ import annotations

from collections import namedtuple

max = namedtuple("max", ["values", "indices"])
min = namedtuple("min", ["values", "indices"])
sort = namedtuple("sort", ["values", "indices"])
topk = namedtuple("topk", ["values", "indices"])
median = namedtuple("median", ["values", "indices"])
