"""Reading files written by `torch.save` (PyTorch's zip format), without torch and without
running the pickle's code.

The archive holds `<name>/data.pkl` (the object, pickled), `<name>/data/<key>` (each storage's
raw little-endian bytes) and `<name>/version`. The pickle is read by a restricted Unpickler
that resolves only the names that rebuild tensors and plain containers (`_ALLOWED`); any other
global (a class, `os.system`, `builtins.eval`, ...) is refused, naming it, before it could be
called. Tensors come back as tensorgrad Tensors (Parameters as nn.Parameter), copied out of
their storage with the saved offset and strides, bounds-checked; bfloat16 becomes float32
(exactly). Everything loads onto the CPU.
"""
from __future__ import annotations

import collections
import io
import math
import pickle

import numpy as np

from ..tensor import Tensor
from .archive import open_archive, read_member

__all__ = ["load_torch", "is_torch_archive", "TorchFormatError"]


class TorchFormatError(ValueError):
    """A .pt file that tensorgrad refuses or cannot read."""


_STORAGES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
             "HalfStorage": np.float16, "BFloat16Storage": "bfloat16",
             "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
             "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
             "ComplexFloatStorage": np.complex64, "ComplexDoubleStorage": np.complex128}


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None,
                    metadata=None):
    """torch._utils._rebuild_tensor_v2: a copy of the strided view, checked against the
    storage's bounds."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or min(size + stride + (offset,), default=0) < 0:
        raise TorchFormatError(f"a tensor of size {size}, stride {stride}, offset {offset}")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if math.prod(size) else -1
    if last >= storage.size:
        raise TorchFormatError(f"a tensor of size {size}, stride {stride}, offset {offset} "
                               f"reaches past its storage of {storage.size} elements")
    view = np.lib.stride_tricks.as_strided(storage[offset:] if math.prod(size) else storage,
                                           size, tuple(s * storage.itemsize for s in stride),
                                           writeable=False)
    return Tensor(np.array(view), requires_grad=bool(requires_grad))


def _rebuild_parameter(data, requires_grad, hooks=None, state=None):
    from ..nn.module import Parameter
    return Parameter(data, requires_grad=bool(requires_grad))


def _bytes(text, encoding="latin1"):
    """_codecs.encode as protocol-2 pickles use it for bytes objects."""
    if encoding != "latin1" or not isinstance(text, str):
        raise TorchFormatError("_codecs.encode is allowed only to rebuild bytes")
    return text.encode("latin1")


_ALLOWED = {("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
            ("collections", "OrderedDict"): collections.OrderedDict,
            ("torch", "Size"): tuple, ("builtins", "set"): set,
            ("builtins", "frozenset"): frozenset, ("builtins", "complex"): complex,
            ("_codecs", "encode"): _bytes}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, prefix, path):
        super().__init__(file)
        self.archive, self.prefix, self.path, self.storages = archive, prefix, path, {}

    def find_class(self, module, name):
        module = "builtins" if module == "__builtin__" else module   # protocol 2's spelling
        if module == "torch" and name in _STORAGES:
            return _STORAGES[name]
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        raise TorchFormatError(
            f"load: {self.path}: the pickle refers to {module}.{name}, which tensorgrad does "
            "not run (only tensors, state_dicts and plain containers are read); if this is "
            "a whole pickled model, save its state_dict() instead")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise TorchFormatError(f"load: {self.path}: unknown persistent id {str(pid)[:80]}")
        _, dtype, key, _location, numel = pid
        if key not in self.storages:
            info = self.archive.getinfo(f"{self.prefix}data/{key}")
            raw = read_member(self.archive, info)
            itemsize = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
            if len(raw) != numel * itemsize:
                raise TorchFormatError(f"load: {self.path}: storage {key} holds {len(raw)} "
                                       f"bytes, not {numel} elements of {itemsize} bytes")
            if dtype == "bfloat16":
                array = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                array = np.frombuffer(raw, np.dtype(dtype).newbyteorder("<"))
            self.storages[key] = array
        return self.storages[key]


def is_torch_archive(names: list[str]) -> bool:
    """Whether a zip archive with these member names was written by torch.save."""
    return any(n.endswith("/data.pkl") or n == "data.pkl" for n in names)


def load_torch(path: str):
    """The object in a torch.save zip file, tensors as tensorgrad Tensors."""
    with open_archive(path, "a PyTorch checkpoint") as archive:
        pkl = next(i for i in archive.infolist()
                   if i.filename.endswith("/data.pkl") or i.filename == "data.pkl")
        prefix = pkl.filename[:-len("data.pkl")]
        data = io.BytesIO(read_member(archive, pkl))
        try:
            return _Unpickler(data, archive, prefix, path).load()
        except TorchFormatError:
            raise
        except (pickle.UnpicklingError, KeyError, TypeError, ValueError, EOFError,
                AttributeError, IndexError) as e:
            raise TorchFormatError(f"load: {path} is a damaged PyTorch checkpoint "
                                   f"({type(e).__name__}: {e})") from None
