"""`save` and `load`: state dicts and checkpoints as .npz files, without pickle.

A checkpoint is a tree of dicts, lists and tuples whose leaves are ndarrays, NumPy scalars,
Tensors and Python scalars (None, bool, int, float, str): a model's or an optimizer's
state_dict, an epoch number, `tg.get_rng_state()`. The arrays are stored as the npz members
"0", "1", ...; the tree itself as JSON in the member "__structure__", where every JSON
object is a tag: {"dict": [[key, value], ...]}, {"tuple": [...]}, {"array": "3"},
{"scalar": "4"}, {"tensor": "5", "requires_grad": false}. Loading never unpickles, so a
file cannot run code.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from .tensor import Tensor

__all__ = ["save", "load"]

_STRUCTURE = "__structure__"
_FORMAT = "tensorgrad-checkpoint-1"


class _Encoder:
    """Turns the tree into JSON-ready values, collecting the arrays."""

    def __init__(self):
        self.arrays = {}

    def _store(self, array: np.ndarray, where: str) -> str:
        if array.dtype.kind in "OV":
            raise TypeError(f"save: cannot store an array of dtype {array.dtype} (at {where})")
        name = str(len(self.arrays))
        self.arrays[name] = array
        return name

    def encode(self, obj, where: str = "root"):
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, Tensor):
            return {"tensor": self._store(obj.data, where), "requires_grad": obj.requires_grad}
        if isinstance(obj, np.ndarray):
            return {"array": self._store(obj, where)}
        if isinstance(obj, np.generic):
            return {"scalar": self._store(np.asarray(obj), where)}
        if isinstance(obj, dict):
            return {"dict": [[self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")]
                             for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
            return items if isinstance(obj, list) else {"tuple": items}
        raise TypeError(f"save: cannot store a {type(obj).__name__} (at {where}); checkpoints "
                        "hold dicts, lists, tuples, arrays, Tensors and Python scalars")


def save(obj, path) -> None:
    """Write obj (a state_dict or a tree of them) to path as an .npz file, atomically: the
    data goes to a temporary file in the same folder, which then replaces path, so a crash
    never leaves a half-written checkpoint."""
    encoder = _Encoder()
    structure = json.dumps({"format": _FORMAT, "tree": encoder.encode(obj)})
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **encoder.arrays, **{_STRUCTURE: np.array(structure)})
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _decode(node, arrays):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if isinstance(node, dict) and "tensor" in node:
        return Tensor(arrays[node["tensor"]], requires_grad=bool(node["requires_grad"]))
    if isinstance(node, dict) and len(node) == 1:
        tag, value = next(iter(node.items()))
        if tag == "dict":
            return {_decode(k, arrays): _decode(v, arrays) for k, v in value}
        if tag == "tuple":
            return tuple(_decode(v, arrays) for v in value)
        if tag == "array":
            return arrays[value]
        if tag == "scalar":
            return arrays[value][()]
    raise ValueError(f"unknown entry {str(node)[:80]}")


def load(path):
    """Read a file written by `save`. Raises ValueError naming the path if the file is
    damaged, truncated or not a tensorgrad checkpoint (FileNotFoundError if missing)."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            members = {name: npz[name] for name in npz.files}
        header = json.loads(str(members.pop(_STRUCTURE)))
        if header.get("format") != _FORMAT:
            raise ValueError(f"unsupported format {header.get('format')!r}")
        return _decode(header["tree"], members)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError,
            zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise ValueError(f"load: {path} is damaged or not a tensorgrad checkpoint "
                         f"({type(e).__name__}: {e})") from e
