"""Where dataset files live, and getting them there: checksum-verified downloads written
atomically, with a clear error saying which files to place where when offline.

Every file is checked against its published MD5 once per process (the result is remembered
by path, size and modification time), and a file with a wrong checksum is never used.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple
from urllib.request import urlopen

_CHUNK = 1 << 20
_verified: dict[str, tuple[int, int]] = {}  # resolved path -> (size, mtime_ns) that matched


class Remote(NamedTuple):
    """A published file: its original name, its official MD5 and the mirrors serving it."""
    filename: str
    md5: str
    urls: tuple[str, ...]


class ChecksumError(RuntimeError):
    """A dataset file whose MD5 differs from the published one."""


def data_root(root=None) -> Path:
    """The data root: `root` if given, else $TENSORGRAD_DATA, else ~/.cache/tensorgrad."""
    if root is None:
        root = os.environ.get("TENSORGRAD_DATA") or "~/.cache/tensorgrad"
    return Path(root).expanduser()


def md5sum(path) -> str:
    """The MD5 of a file as a hex string."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, md5: str) -> None:
    """Raise `ChecksumError` unless the file's MD5 is `md5`; a file that passed is not hashed
    again while its size and modification time stay the same."""
    path = Path(path).resolve()
    if _verified.get(str(path)) == _stat_key(path):
        return
    actual = md5sum(path)
    if actual != md5:
        raise ChecksumError(f"{path} has MD5 {actual} but the published file's MD5 is {md5}: "
                            f"it is corrupted or a different file. Delete it (it is then "
                            f"downloaded again) or replace it with the original.")
    _remember(path)


def _stat_key(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _remember(path: Path) -> None:
    path = path.resolve()
    _verified[str(path)] = _stat_key(path)


def download(remote: Remote, folder) -> Path:
    """Fetch `remote` into folder, trying each mirror in turn. The bytes go to a temporary
    file in the same folder that replaces the target only once its MD5 matches, so a failed
    or interrupted download never leaves a partial file under the real name. Raises OSError
    listing every mirror's failure. Folders are created only once a mirror answers, and
    removed again if the download then fails, so a failed download creates nothing."""
    folder = Path(folder)
    target = folder / remote.filename
    failures = []
    for url in remote.urls:
        try:
            _fetch_verified(url, target, remote.md5)
            return target
        except (OSError, ValueError, http.client.HTTPException, ChecksumError) as e:
            failures.append(f"{url}: {e}")
    raise OSError(f"could not download {remote.filename}:\n  " + "\n  ".join(failures))


def _fetch_verified(url: str, target: Path, md5: str) -> None:
    print(f"downloading {url} to {target}", file=sys.stderr)
    with urlopen(url, timeout=60) as response:
        created = _make_folders(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            digest = hashlib.md5(usedforsecurity=False)
            with os.fdopen(fd, "wb") as out:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != md5:
                raise ChecksumError(f"downloaded data has MD5 {digest.hexdigest()}, "
                                    f"expected {md5}")
            os.replace(tmp, target)
            _remember(target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
                for folder in created:  # deepest first; only the ones made here, if empty
                    if not any(folder.iterdir()):
                        folder.rmdir()


def _make_folders(folder: Path) -> list[Path]:
    """Create folder and its missing parents; return the ones created, deepest first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def fetch(name: str, folder, remotes, download_missing: bool = True) -> list[Path]:
    """The verified paths of `remotes` in folder, downloading missing ones when allowed.

    Raises `ChecksumError` for a present file with a wrong MD5, and FileNotFoundError naming
    each file still missing, where to place it and where it is published."""
    folder = Path(folder)
    paths, missing, reasons = [], [], []
    for remote in remotes:
        path = folder / remote.filename
        if not path.is_file() and download_missing:
            try:
                download(remote, folder)
            except OSError as e:
                reasons.append(str(e))
        if path.is_file():
            verify(path, remote.md5)
        else:
            missing.append(remote)
        paths.append(path)
    if missing:
        raise FileNotFoundError(_missing_message(name, folder, missing, reasons))
    return paths


def _missing_message(name, folder, missing, reasons) -> str:
    files = "\n".join(f"  {folder / r.filename}  (md5 {r.md5}; published at {r.urls[0]})"
                      for r in missing)
    why = "\n".join(["Downloading failed:"] + reasons) if reasons else "download=False."
    return (f"{name}: {len(missing)} file(s) missing in {folder}. Place these files there "
            f"under their original names:\n{files}\nor pass root=... (or set TENSORGRAD_DATA) "
            f"to a folder holding {folder.name}/ with them. {why}")
