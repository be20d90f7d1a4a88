"""`save` and `load`: checkpoints and state_dicts on disk, never through pickle.

`save` writes tensorgrad's own checkpoint format (`checkpoint.py`: any tree of dicts, lists,
tuples, arrays, Tensors and Python scalars, as an .npz file), or, for a path ending in
.safetensors, the safetensors format (`safetensors_format.py`: one flat {name: tensor}
dict). `load` tells formats apart by their content and reads tensorgrad checkpoints,
PyTorch's zip files (`torch_format.py`) and safetensors files. Every write is atomic
(`atomic.py`).
"""
from __future__ import annotations

import os
import zipfile

from .archive import ArchiveError
from .checkpoint import is_checkpoint, load_checkpoint, save_checkpoint
from .safetensors_format import load_safetensors, save_safetensors
from .torch_format import TorchFormatError, is_torch_archive, load_torch

__all__ = ["save", "load", "save_safetensors", "load_safetensors"]


def save(obj, path) -> None:
    """Write obj (a state_dict or a tree of them) to path as a tensorgrad checkpoint (.npz),
    atomically: the data goes to a temporary file in the same folder, which then replaces
    path, so a crash never leaves a half-written file. The path is used exactly as given; a
    symlink is written through to its target, and an existing file keeps its permissions.
    A path ending in .safetensors is written in that format (obj: a flat {name: tensor}
    dict, e.g. a state_dict)."""
    if os.fspath(path).endswith(".safetensors"):
        save_safetensors(obj, path)
    else:
        save_checkpoint(obj, path)


def load(path, map_location=None, weights_only=None):
    """Read a tensorgrad checkpoint (written by `save`) or a PyTorch one (written by
    `torch.save` in its zip format, PyTorch >= 1.6) or a safetensors file ({name:
    ndarray}), told apart by content. PyTorch files
    are read without torch and without running their pickle: only tensors, state_dicts and
    plain containers are rebuilt, anything else is refused naming the global, whatever
    `weights_only` says (True, False or None are all accepted). `map_location`: None, "cpu"
    or anything whose str() is "cpu"; everything loads onto the CPU. Raises ValueError
    naming the path if the file is damaged, truncated or of another format
    (FileNotFoundError if missing)."""
    path = os.fspath(path)
    if map_location is not None and str(map_location) != "cpu":
        raise ValueError(f"load: map_location={map_location!r}: tensorgrad has only the CPU; "
                         "use None or 'cpu'")
    if weights_only not in (None, True, False):
        raise TypeError(f"load: weights_only must be True, False or None, got {weights_only!r}")
    with open(path, "rb") as f:
        start = f.read(9)
    if len(start) == 9 and start[:2] != b"PK" and start[8:9] == b"{":
        return load_safetensors(path)
    if start[:1] == b"\x80":
        raise ValueError(f"load: {path} is a pickle, e.g. PyTorch's legacy (pre-1.6, or "
                         "_use_new_zipfile_serialization=False) format, which tensorgrad does "
                         "not read: re-save it with torch.save(obj, path) from PyTorch >= 1.6")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if is_torch_archive(names) and not is_checkpoint(names):
            return load_torch(path)
        return load_checkpoint(path)
    except (FileNotFoundError, ArchiveError, TorchFormatError):
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError,
            zipfile.BadZipFile) as e:
        raise ValueError(f"load: {path} is damaged or not a tensorgrad checkpoint "
                         f"({type(e).__name__}: {e})") from e
