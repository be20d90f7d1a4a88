"""safetensors files: tg.save/tg.load by extension and the serialization functions, both
directions against the format's reference package (where installed), every dtype, and the
malformed headers a hostile file could carry."""
import json
import struct

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import nn
from tensorgrad.serialization import load_safetensors, save_safetensors
from tensorgrad.serialization.safetensors_format import SafetensorsError

DTYPES = ["float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def sample(seed=0) -> dict:
    rng = np.random.default_rng(seed)
    out = {f"t_{d}": (rng.standard_normal((3, 4, 2)) * 50).astype(d) for d in DTYPES}
    out["scalar"] = np.array(2.5, np.float32)
    out["empty"] = np.zeros((0, 3), np.float32)
    return out


def test_round_trip_through_tg_save_and_load(tmp_path):
    data = sample()
    tg.save(data, tmp_path / "a.safetensors")
    back = tg.load(tmp_path / "a.safetensors")
    assert list(back) == list(data)
    for name, value in data.items():
        assert back[name].dtype == value.dtype and back[name].shape == value.shape, name
        np.testing.assert_array_equal(back[name], value, err_msg=name)


def test_a_state_dict_loads_back_into_the_model(tmp_path):
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    tg.save(net.state_dict(), tmp_path / "m.safetensors")
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    other.load_state_dict(tg.load(tmp_path / "m.safetensors"))
    for (k, a), b in zip(net.state_dict().items(), other.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=k)


def test_files_match_the_reference_package_both_ways(tmp_path):
    reference = pytest.importorskip("safetensors.numpy")
    data = sample(1)
    save_safetensors(data, tmp_path / "ours.safetensors", metadata={"format": "np"})
    theirs = reference.load_file(str(tmp_path / "ours.safetensors"))
    reference.save_file(data, str(tmp_path / "theirs.safetensors"), metadata={"k": "v"})
    ours = load_safetensors(tmp_path / "theirs.safetensors")
    for loaded in (theirs, ours):
        assert set(loaded) == set(data)
        for name, value in data.items():
            assert loaded[name].dtype == value.dtype, name
            np.testing.assert_array_equal(loaded[name], value, err_msg=name)


def write_raw(path, header: dict, data: bytes = b"", length=None):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + data)
    return path


@pytest.mark.parametrize("header, data, message", [
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}}, bytes(8),
     r"data_offsets \[0, 16\] are not inside the 8 bytes of data"),
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8),
     r"shape \(3,\) of F32 needs 12 bytes, data_offsets give 8"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12),
     "tensors 'a' and 'b' overlap"),
    ({"a": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, bytes(8),
     "unsupported dtype 'C64'"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4),
     "shape must be a list of sizes >= 0"),
    ({"a": {"dtype": "F32", "shape": [1]}}, bytes(4), "expected dtype, shape and data_offsets"),
])
def test_malformed_headers_are_refused_naming_the_tensor(tmp_path, header, data, message):
    path = write_raw(tmp_path / "bad.safetensors", header, data)
    with pytest.raises(SafetensorsError, match=message):
        tg.load(path)


def test_a_huge_header_length_is_refused_before_reading(tmp_path):
    path = write_raw(tmp_path / "big.safetensors", {}, length=1 << 40)
    with pytest.raises(SafetensorsError, match="header length 1099511627776 is larger than the "
                                               "file"):
        load_safetensors(path)


def test_saving_what_the_format_cannot_hold_is_refused(tmp_path):
    with pytest.raises(TypeError, match="safetensors holds one flat name -> tensor mapping"):
        tg.save([np.zeros(2)], tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="'z' has dtype complex128, which safetensors cannot hold"):
        tg.save({"z": np.zeros(2, complex)}, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()
