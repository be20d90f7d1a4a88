"""Writing a user's file atomically: all of it or none of it, whatever crashes when.

`atomic_write(path)` hands out a temporary file in the target's folder; when the block ends
without an error the file is flushed to disk, given the target's mode (or the umask's, for a
new file), renamed over the target and the folder itself is synced, so after a crash the
target is either the old file or the complete new one. A symlink is written through: its
final target is replaced, the link stays. Temporary files left behind by a killed writer
(named `.tensorgrad-XXXXXXXX.tmp`, not locked by any process, untouched for
`STALE_SECONDS`) are removed by the next write to the same folder.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time

try:
    import fcntl
except ImportError:  # not POSIX: stale temporary files are then left alone
    fcntl = None

__all__ = ["atomic_write", "STALE_SECONDS"]

STALE_SECONDS = 600
_PREFIX, _SUFFIX = ".tensorgrad-", ".tmp"
_TEMP_NAME = re.compile(re.escape(_PREFIX) + r"[0-9a-f]{16}" + re.escape(_SUFFIX))


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", **open_args):
    """Context manager yielding a file object opened with `mode` ("wb" or "w", plus
    `open_args` such as newline="") whose content replaces `path` atomically when the block
    ends without an exception; on an exception nothing changes and the temporary file is
    removed. OSErrors name `path`, never the temporary file."""
    target = os.path.realpath(os.fspath(path))   # through symlinks, to the real file
    folder = os.path.dirname(target)
    try:
        remove_stale_temporaries(folder)
        fd, tmp = _create_temporary(folder)
    except OSError as e:
        raise _naming(e, path) from e
    try:
        with open(fd, mode, **open_args) as f:
            _lock(f)
            yield f
            f.flush()
            os.fchmod(f.fileno(), _mode_for(target, f.fileno()))
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _naming(e, path) from e
        raise
    _sync_folder(folder)


def _create_temporary(folder: str) -> tuple[int, str]:
    """A new file in folder, created with mode 0o666 so the umask (and any default ACL)
    applies as for a file the user creates."""
    while True:
        tmp = os.path.join(folder, f"{_PREFIX}{secrets.token_hex(8)}{_SUFFIX}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def _mode_for(target: str, fd: int) -> int:
    """The existing target's permission bits, else those the temporary file got."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return stat.S_IMODE(os.fstat(fd).st_mode)


def _lock(f) -> None:
    """Mark the temporary file as in use, so no other process's clean-up removes it."""
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def remove_stale_temporaries(folder: str) -> list[str]:
    """Remove tensorgrad's own temporary files in folder that a killed writer left: regular
    files named `.tensorgrad-<16 hex digits>.tmp`, owned by this user, not modified for
    STALE_SECONDS and not locked by a live writer. Returns the removed paths."""
    if fcntl is None:
        return []
    removed, now = [], time.time()
    with os.scandir(folder) as entries:
        candidates = [e for e in entries if _TEMP_NAME.fullmatch(e.name)]
    for entry in candidates:
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or \
                    now - info.st_mtime < STALE_SECONDS:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # fails if a writer lives
                os.unlink(entry.path)
                removed.append(entry.path)
            finally:
                os.close(fd)
        except OSError:
            continue
    return removed


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _naming(error: OSError, path) -> OSError:
    """The same kind of OSError, naming the file the user asked for."""
    message = f"cannot write {os.fspath(path)}: {error.strerror or error}"
    return type(error)(message) if error.errno is None else type(error)(error.errno, message)
