"""Reader and writer for the IDX format of MNIST and Fashion-MNIST, gzip-compressed or raw.

An IDX file is a big-endian header (two zero bytes, a type code, the number of dimensions,
then each dimension as a uint32) followed by the values in row-major order.
"""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

_GZIP_MAGIC = b"\x1f\x8b"
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(d).newbyteorder("="): code for code, d in _DTYPES.items()}


class IDXError(ValueError):
    """A file that is not a valid IDX file (bad header, truncated or corrupted data)."""


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw, told apart by their magic bytes) into a new,
    writable, native-endian ndarray. Raises `IDXError` naming the file when the header or the
    payload length is wrong or the gzip stream is corrupted."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        compressed = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        if not compressed:
            return _parse(f.read(), path)
        try:
            with gzip.GzipFile(fileobj=f) as stream:
                return _parse(_read_capped(stream), path)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXError(f"{path}: corrupted or truncated gzip data ({e})") from None


def _read_capped(stream) -> bytes:
    """The inflated IDX data, reading no further than one byte past the size its header
    declares (so a gzip bomb is stopped, and reported as trailing bytes by `_parse`)."""
    data = stream.read(4)
    if len(data) == 4:
        data += stream.read(4 * data[3])
    if len(data) >= 4 and len(data) == 4 + 4 * data[3] and data[2] in _DTYPES:
        dims = np.frombuffer(data, ">u4", data[3], offset=4)
        size = np.dtype(_DTYPES[data[2]]).itemsize * int(np.prod(dims, dtype=object))
        data += stream.read(size + 1)
    return data


def _parse(data: bytes, path: str) -> np.ndarray:
    if len(data) < 4:
        raise IDXError(f"{path}: {len(data)} bytes is too short for an IDX header")
    zeros, code, ndim = data[:2], data[2], data[3]
    if zeros != b"\x00\x00":
        raise IDXError(f"{path}: bad magic number 0x{data[:4].hex()}: an IDX file starts "
                       f"with two zero bytes, a type code and the number of dimensions")
    if code not in _DTYPES:
        raise IDXError(f"{path}: unknown IDX type code 0x{code:02x} (known: "
                       f"{', '.join(f'0x{c:02x}' for c in _DTYPES)})")
    if ndim == 0:
        raise IDXError(f"{path}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(f"{path}: truncated header: {ndim} dimensions need {header} bytes, "
                       f"the file has {len(data)}")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, offset=4))
    dtype = np.dtype(_DTYPES[code])
    expected = dtype.itemsize * int(np.prod(shape, dtype=object))
    actual = len(data) - header
    if actual != expected:
        problem = "truncated" if actual < expected else "has trailing bytes"
        raise IDXError(f"{path}: {problem}: shape {shape} of {dtype.newbyteorder('=')} needs "
                       f"{expected} bytes of data after the header, the file has {actual}")
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path, array) -> None:
    """Write array as an IDX file, gzip-compressed when path ends with '.gz'."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise IDXError(f"write_idx: IDX cannot store dtype {array.dtype}; use one of "
                       f"{', '.join(str(d) for d in _CODES)}")
    if not 1 <= array.ndim <= 255:
        raise IDXError(f"write_idx: IDX stores 1 to 255 dimensions, got shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    data = header + np.ascontiguousarray(array, _DTYPES[code]).tobytes()
    path = os.fspath(path)
    with open(path, "wb") as f:
        f.write(gzip.compress(data, mtime=0) if path.endswith(".gz") else data)
