"""tensorgrad's own checkpoint format: a tree of state_dicts as an .npz file, without pickle.

A checkpoint is a tree of dicts, lists and tuples whose leaves are ndarrays, NumPy scalars,
Tensors and Python scalars (None, bool, int, float, str): a model's or an optimizer's
state_dict, an epoch number, `tg.get_rng_state()`. The arrays are stored as the npz members
"0", "1", ...; the tree itself as JSON in the member "__structure__", where every JSON
object is a tag: {"dict": [[key, value], ...]}, {"tuple": [...]}, {"array": "3"},
{"scalar": "4"}, {"tensor": "5", "requires_grad": false}. Loading never unpickles, so a
file cannot run code; members are stored uncompressed and each must hold exactly the bytes
its .npy header declares, so a file cannot make `load` allocate more than its own size.
"""
from __future__ import annotations

import io
import json
import math

import numpy as np

from ..tensor import Tensor
from .archive import ArchiveError, open_archive, read_member
from .atomic import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint", "is_checkpoint", "MAX_DEPTH"]

_STRUCTURE = "__structure__"
_FORMAT = "tensorgrad-checkpoint-1"
MAX_DEPTH = 100   # containers inside containers; a state_dict tree needs fewer than 10


class _Encoder:
    """Turns the tree into JSON-ready values, collecting the arrays."""

    def __init__(self):
        self.arrays = {}
        self._open = set()   # ids of the containers on the path to the current node

    def _store(self, array: np.ndarray, where: str) -> str:
        if array.dtype.kind in "OV":
            raise TypeError(f"save: cannot store an array of dtype {array.dtype} (at {where})")
        name = str(len(self.arrays))
        self.arrays[name] = array
        return name

    def encode(self, obj, where: str = "root", depth: int = 0):
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, Tensor):
            return {"tensor": self._store(obj.data, where), "requires_grad": obj.requires_grad}
        if isinstance(obj, np.ndarray):
            return {"array": self._store(obj, where)}
        if isinstance(obj, np.generic):
            return {"scalar": self._store(np.asarray(obj), where)}
        if not isinstance(obj, (dict, list, tuple)):
            raise TypeError(f"save: cannot store a {type(obj).__name__} (at {where}); "
                            "checkpoints hold dicts, lists, tuples, arrays, Tensors and Python "
                            "scalars")
        if id(obj) in self._open:
            raise ValueError(f"save: the {type(obj).__name__} at {where} contains itself; a "
                             "checkpoint must be a tree")
        if depth >= MAX_DEPTH:
            raise ValueError(f"save: containers are nested more than {MAX_DEPTH} deep (at "
                             f"{where[:200]}...)")
        self._open.add(id(obj))
        if isinstance(obj, dict):
            node = {"dict": [[self.encode(k, f"{where} key", depth + 1),
                              self.encode(v, f"{where}[{k!r}]", depth + 1)]
                             for k, v in obj.items()]}
        else:
            items = [self.encode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
            node = items if isinstance(obj, list) else {"tuple": items}
        self._open.discard(id(obj))
        return node


def save_checkpoint(obj, path) -> None:
    """Write obj (a state_dict or a tree of them) to path as an .npz file, atomically (see
    `atomic_write`); the tree is checked completely before anything is written."""
    encoder = _Encoder()
    structure = json.dumps({"format": _FORMAT, "tree": encoder.encode(obj)})
    with atomic_write(path) as f:
        np.savez(f, **encoder.arrays, **{_STRUCTURE: np.array(structure)})


def _decode(node, arrays, depth: int = 0):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if depth >= MAX_DEPTH:
        raise ValueError(f"containers are nested more than {MAX_DEPTH} deep")
    if isinstance(node, list):
        return [_decode(v, arrays, depth + 1) for v in node]
    if isinstance(node, dict) and "tensor" in node:
        return Tensor(arrays[node["tensor"]], requires_grad=bool(node["requires_grad"]))
    if isinstance(node, dict) and len(node) == 1:
        tag, value = next(iter(node.items()))
        if tag == "dict":
            return {_decode(k, arrays, depth + 1): _decode(v, arrays, depth + 1)
                    for k, v in value}
        if tag == "tuple":
            return tuple(_decode(v, arrays, depth + 1) for v in value)
        if tag == "array":
            return arrays[value]
        if tag == "scalar":
            return arrays[value][()]
    raise ValueError(f"unknown entry {str(node)[:80]}")


def _parse_npy(data: bytearray, where: str) -> np.ndarray:
    """The array in an .npy member, after checking that its header's shape and dtype
    account for exactly the bytes the member holds (nothing is allocated before)."""
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"{where}: unsupported .npy version {version}")
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
        else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = read_header(f)
    if dtype.hasobject or dtype.kind == "V":
        raise ValueError(f"{where}: arrays of dtype {dtype} are not stored by tensorgrad")
    declared = math.prod(shape) * dtype.itemsize
    held = len(data) - f.tell()
    if declared != held:
        raise ArchiveError(f"{where} declares shape {shape} of {dtype} ({declared:,} bytes) "
                           f"but holds {held:,} bytes")
    array = np.frombuffer(data, dtype, math.prod(shape), offset=f.tell())
    return array.reshape(shape, order="F" if fortran_order else "C")


def is_checkpoint(names: list[str]) -> bool:
    """Whether a zip archive with these member names is a tensorgrad checkpoint."""
    return _STRUCTURE + ".npy" in names


def load_checkpoint(path: str):
    """Read a file written by `save_checkpoint`. Raises ValueError naming the path."""
    with open_archive(path, "a tensorgrad checkpoint") as archive:
        members = {}
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise ValueError(f"member {info.filename!r} is not an .npy array")
            where = f"load: {path}: member {info.filename!r}"
            members[info.filename[:-4]] = _parse_npy(read_member(archive, info), where)
    try:
        header = json.loads(str(members.pop(_STRUCTURE)))
    except RecursionError:
        raise ValueError(f"its structure is nested more than {MAX_DEPTH} deep") from None
    if header.get("format") != _FORMAT:
        raise ValueError(f"unsupported format {header.get('format')!r}")
    return _decode(header["tree"], members)
