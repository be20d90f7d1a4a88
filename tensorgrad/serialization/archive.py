"""Reading members of a zip archive (.npz, PyTorch's .pt) without trusting its headers.

Both formats store their members uncompressed, so an archive whose members are compressed
(or use a method zipfile cannot read) is refused before anything is inflated; the members
together may not claim more bytes than the file has (overlapping members are a zip bomb
that needs no compression); and a member is read with a cap: never more bytes than the
reader expects for it.
"""
from __future__ import annotations

import os
import zipfile

__all__ = ["ArchiveError", "open_archive", "read_member"]


class ArchiveError(ValueError):
    """A zip archive that tensorgrad refuses to read (compressed, oversized or damaged)."""


def open_archive(path: str, what: str) -> zipfile.ZipFile:
    """Open path as a zip archive whose members are all stored uncompressed and fit in the
    file; `what` names the format in errors ("a tensorgrad checkpoint", ...)."""
    archive = zipfile.ZipFile(path)
    try:
        total = 0
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                method = zipfile.compressor_names.get(info.compress_type, "unknown")
                raise ArchiveError(
                    f"load: {path}: member {info.filename!r} is compressed (zip method "
                    f"{info.compress_type}, {method}); {what} stores its members uncompressed, "
                    f"so it is refused without inflating it")
            if info.file_size != info.compress_size:
                raise ArchiveError(f"load: {path}: member {info.filename!r} declares "
                                   f"{info.file_size} bytes but stores {info.compress_size}")
            total += info.file_size
        size = os.path.getsize(path)
        if total > size:
            raise ArchiveError(f"load: {path}: its members declare {total} bytes in all, more "
                               f"than the file's {size} bytes (overlapping members)")
    except BaseException:
        archive.close()
        raise
    return archive


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytearray:
    """The whole of a member opened by `open_archive` (its size already checked against the
    file), as a writable buffer; the zip CRC is verified. Raises ArchiveError if the member
    holds fewer bytes than it declares."""
    buffer = bytearray(info.file_size)
    view, filled = memoryview(buffer), 0
    with archive.open(info) as f:
        while filled < info.file_size:
            n = f.readinto(view[filled:])
            if not n:
                raise ArchiveError(f"load: {archive.filename}: member {info.filename!r} is "
                                   f"truncated: {filled} of its {info.file_size} bytes")
            filled += n
        f.read(1)   # reaching the end makes zipfile check the CRC
    return buffer
