"""The safetensors format (Hugging Face): a flat {name: tensor} file that any framework reads
without running code.

Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each name to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data that follows, in
bytes) plus an optional "__metadata__" {str: str}, then the raw little-endian, row-major
tensor data. The reader checks every header entry (dtype, shape, offsets inside the file,
sizes matching the shapes, no overlaps) before it builds any array.
"""
from __future__ import annotations

import json
import os
import struct

import numpy as np

from .atomic import atomic_write

__all__ = ["save_safetensors", "load_safetensors", "SafetensorsError"]

_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
           "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024   # the reference implementation's limit


class SafetensorsError(ValueError):
    """A file that is not a well-formed safetensors file (the message names it)."""


def save_safetensors(tensors: dict, path, metadata: dict | None = None) -> None:
    """Write {name: Tensor or ndarray} to path in the safetensors format, atomically.
    `metadata`: optional {str: str} stored in the header."""
    if not isinstance(tensors, dict):
        raise TypeError(f"save_safetensors: expected a dict of tensors, got "
                        f"{type(tensors).__name__} (safetensors holds one flat name -> tensor "
                        "mapping; use tg.save for nested checkpoints)")
    header, blobs, offset = {}, [], 0
    for name, value in tensors.items():
        array = np.asarray(getattr(value, "data", value))
        if not isinstance(name, str) or name == "__metadata__":
            raise TypeError(f"save_safetensors: tensor names must be strings other than "
                            f"'__metadata__', got {name!r}")
        code = _CODES.get(array.dtype.newbyteorder("<") if array.dtype.byteorder == ">"
                          else array.dtype)
        if code is None:
            raise TypeError(f"save_safetensors: '{name}' has dtype {array.dtype}, which "
                            f"safetensors cannot hold (one of {', '.join(_DTYPES)})")
        data = np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save_safetensors: metadata must map strings to strings")
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)   # pad so the data starts 8-byte aligned
    with atomic_write(path) as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def load_safetensors(path) -> dict:
    """Read a safetensors file: {name: ndarray} in the file's order (the "__metadata__"
    entry, if any, is left out). Raises SafetensorsError naming the file and the entry when
    the header is malformed."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        raw = f.read(8)
        if len(raw) < 8:
            raise SafetensorsError(f"load: {path} is too short to be a safetensors file")
        (length,) = struct.unpack("<Q", raw)
        if length > min(_MAX_HEADER, size - 8):
            raise SafetensorsError(f"load: {path}: header length {length} is larger than the "
                                   f"file ({size} bytes) or the {_MAX_HEADER}-byte limit")
        try:
            header = json.loads(f.read(length).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SafetensorsError(f"load: {path}: the header is not JSON ({e})") from None
        if not isinstance(header, dict):
            raise SafetensorsError(f"load: {path}: the header is not a JSON object")
        header.pop("__metadata__", None)
        data_size = size - 8 - length
        entries = [_checked_entry(path, name, entry, data_size) for name, entry in header.items()]
        spans = sorted((begin, end, name) for name, _, _, begin, end in entries)
        for (_, end, name), (begin, _, other) in zip(spans, spans[1:]):
            if begin < end:
                raise SafetensorsError(f"load: {path}: tensors '{name}' and '{other}' overlap")
        result = {}
        for name, dtype, shape, begin, end in entries:
            f.seek(8 + length + begin)
            buffer = bytearray(end - begin)
            if f.readinto(buffer) != len(buffer):
                raise SafetensorsError(f"load: {path}: truncated inside tensor '{name}'")
            result[name] = np.frombuffer(buffer, dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=False)
    return result


def _checked_entry(path: str, name: str, entry, data_size: int) -> tuple:
    where = f"load: {path}: tensor '{name}'"
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(f"{where}: expected dtype, shape and data_offsets, got {entry!r}")
    if entry["dtype"] not in _DTYPES:
        raise SafetensorsError(f"{where}: unsupported dtype {entry['dtype']!r}")
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
        raise SafetensorsError(f"{where}: shape must be a list of sizes >= 0, got {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and
            all(type(o) is int for o in offsets) and 0 <= offsets[0] <= offsets[1] <= data_size):
        raise SafetensorsError(f"{where}: data_offsets {offsets!r} are not inside the "
                               f"{data_size} bytes of data")
    dtype = np.dtype(_DTYPES[entry["dtype"]])
    needed = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if offsets[1] - offsets[0] != needed:
        raise SafetensorsError(f"{where}: shape {tuple(shape)} of {entry['dtype']} needs "
                               f"{needed} bytes, data_offsets give {offsets[1] - offsets[0]}")
    return name, dtype, tuple(shape), offsets[0], offsets[1]
