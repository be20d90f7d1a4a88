"""`save` and `load`: checkpoints and state_dicts on disk, never through pickle.

`save` writes tensorgrad's own checkpoint format (`checkpoint.py`: any tree of dicts, lists,
tuples, arrays, Tensors and Python scalars, as an .npz file). `load` tells formats apart by
their content and reads tensorgrad checkpoints. Every write is atomic (`atomic.py`).
"""
from __future__ import annotations

import os
import zipfile

from .archive import ArchiveError
from .checkpoint import is_checkpoint, load_checkpoint, save_checkpoint

__all__ = ["save", "load"]


def save(obj, path) -> None:
    """Write obj (a state_dict or a tree of them) to path as a tensorgrad checkpoint (.npz),
    atomically: the data goes to a temporary file in the same folder, which then replaces
    path, so a crash never leaves a half-written file. The path is used exactly as given; a
    symlink is written through to its target, and an existing file keeps its permissions."""
    save_checkpoint(obj, path)


def load(path):
    """Read a file written by `save`. Raises ValueError naming the path if the file is
    damaged, truncated or not a tensorgrad checkpoint (FileNotFoundError if missing)."""
    path = os.fspath(path)
    try:
        return load_checkpoint(path)
    except (FileNotFoundError, ArchiveError):
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError,
            zipfile.BadZipFile) as e:
        raise ValueError(f"load: {path} is damaged or not a tensorgrad checkpoint "
                         f"({type(e).__name__}: {e})") from e
