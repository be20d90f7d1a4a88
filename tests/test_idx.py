"""IDX reader and writer: round trips, the exact header layout, and every malformed file."""
import gzip
import re

import numpy as np
import pytest

from tensorgrad.data import IDXError, read_idx, write_idx

DTYPES = ["uint8", "int8", "int16", "int32", "float32", "float64"]
SHAPES = [(7,), (3, 5, 4), (2, 1, 3, 2)]


@pytest.mark.parametrize("suffix", [".idx", ".gz"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip(tmp_path, suffix, dtype, shape):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    path = tmp_path / f"a{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == shape and back.flags.writeable
    np.testing.assert_array_equal(back, array)


def test_header_is_big_endian_magic_then_dims(tmp_path):
    """MNIST images start with 0x00000803 then N, 28, 28 as big-endian uint32s."""
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx", array)
    raw = (tmp_path / "a.idx").read_bytes()
    assert raw[:16] == bytes.fromhex("00000803 00000002 00000003 00000004".replace(" ", ""))
    assert raw[16:] == array.tobytes()
    int16 = np.array([1, -2], dtype=np.int16)
    write_idx(tmp_path / "b.idx", int16)
    assert (tmp_path / "b.idx").read_bytes() == bytes.fromhex("00000b01" "00000002" "0001" "fffe")


def test_gzip_detected_by_magic_bytes_not_name(tmp_path):
    array = np.arange(12, dtype=np.int32).reshape(3, 4)
    write_idx(tmp_path / "a.idx", array)
    raw = (tmp_path / "a.idx").read_bytes()
    (tmp_path / "compressed.idx").write_bytes(gzip.compress(raw))
    (tmp_path / "plain.gz").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "compressed.idx"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "plain.gz"), array)


def _raw(array):
    return (bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
            + array.tobytes())


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("data, message", [
    (b"\x00\x00", "too short for an IDX header"),
    (b"\x01\x00\x08\x01" + bytes(8), "bad magic number 0x01000801"),
    (b"PK\x03\x04" + bytes(8), "bad magic number"),
    (b"\x00\x00\x07\x01" + bytes(8), "unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x03" + bytes(8), "truncated header: 3 dimensions need 16 bytes"),
    (_raw(np.zeros((3, 4), np.uint8))[:-1], "truncated: shape (3, 4) of uint8 needs 12 bytes"),
    (_raw(np.zeros((3, 4), np.uint8)) + b"\x00", "has trailing bytes"),
    (b"\x00\x00\x0d\x01" + np.asarray([2], ">u4").tobytes() + bytes(4), "float32 needs 8 bytes"),
], ids=["short", "magic", "zip", "type", "ndim0", "header", "truncated", "trailing", "float"])
def test_malformed_files_name_the_file(tmp_path, compress, data, message):
    path = tmp_path / "bad-file.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(IDXError, match=re.escape(message)) as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("damage", ["cut", "flip"])
def test_corrupted_gzip_stream(tmp_path, damage):
    array = np.random.default_rng(1).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    raw = bytearray((tmp_path / "a.gz").read_bytes())
    if damage == "cut":
        raw = raw[: len(raw) // 2]
    else:
        middle = slice(len(raw) // 2, len(raw) // 2 + 8)
        raw[middle] = bytes(255 - b for b in raw[middle])
    (tmp_path / "a.gz").write_bytes(bytes(raw))
    with pytest.raises(IDXError, match="corrupted or truncated gzip data") as info:
        read_idx(tmp_path / "a.gz")
    assert "a.gz" in str(info.value)


@pytest.mark.parametrize("array, message", [
    (np.zeros(3, np.int64), "cannot store dtype int64"),
    (np.zeros(3, bool), "cannot store dtype bool"),
    (np.zeros((), np.uint8), r"1 to 255 dimensions, got shape \(\)"),
])
def test_write_idx_rejects(tmp_path, array, message):
    with pytest.raises(IDXError, match=message):
        write_idx(tmp_path / "a.idx", array)


def test_a_gzip_inflating_past_its_declared_size_is_stopped_there(tmp_path):
    import tracemalloc
    header = bytes([0, 0, 0x08, 1]) + (10).to_bytes(4, "big")
    bomb = tmp_path / "bomb-idx1-ubyte.gz"
    bomb.write_bytes(gzip.compress(header + bytes(10 + 2 ** 27)))   # 128 MiB past the data
    assert bomb.stat().st_size < 300_000
    tracemalloc.start()
    with pytest.raises(IDXError, match=r"has trailing bytes: shape \(10,\) of uint8 needs 10 "
                                       r"bytes of data after the header, the file has 11"):
        read_idx(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000
