"""save / load: faithful round trips of checkpoint trees, atomic writes, and clear errors for
damaged, truncated, foreign or unsupported files and objects."""
import os
import zipfile

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import nn, optim
from tensorgrad.serialization import load, save


def test_round_trip_keeps_structure_types_dtypes_and_values(tmp_path):
    tg.manual_seed(5)
    obj = {
        "weights": {"fc.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
                    "steps": np.array(3, dtype=np.int64), "mask": np.array([True, False])},
        "state": {0: {"step": 4, "exp_avg": np.ones(2)}, 1: {}},
        "betas": (0.9, 0.999), "history": [1.5, float("inf"), None, True, "text"],
        "big": 2 ** 100, "scalar": np.float32(2.5), "empty": np.zeros((0, 3)),
        "rng": tg.get_rng_state(), "tensor": tg.tensor([1.0, 2.0], requires_grad=True),
        ("a", 1): "tuple key", 2.5: "float key", None: "none key",
    }
    save(obj, tmp_path / "ckpt.npz")
    back = load(tmp_path / "ckpt.npz")
    assert list(back) == list(obj)
    for name, array in obj["weights"].items():
        assert back["weights"][name].dtype == array.dtype
        np.testing.assert_array_equal(back["weights"][name], array)
    assert back["state"][0]["step"] == 4 and back["state"][1] == {}
    assert back["betas"] == (0.9, 0.999) and isinstance(back["betas"], tuple)
    assert back["history"] == obj["history"] and back["big"] == 2 ** 100
    assert back["scalar"] == np.float32(2.5) and isinstance(back["scalar"], np.float32)
    assert back["empty"].shape == (0, 3)
    assert back["rng"] == obj["rng"]
    assert isinstance(back["tensor"], tg.Tensor) and back["tensor"].requires_grad
    assert back["tensor"].dtype == np.float32
    assert back[("a", 1)] == "tuple key" and back[2.5] == "float key" and back[None] == "none key"
    assert np.isnan(load(_saved(tmp_path, float("nan"))))


def _saved(tmp_path, obj, name="x.npz"):
    save(obj, tmp_path / name)
    return tmp_path / name


def test_rng_state_round_trip_reproduces_the_stream(tmp_path):
    tg.manual_seed(1)
    tg.randn(3)
    path = _saved(tmp_path, {"rng": tg.get_rng_state(), "epoch": 7})
    expected = tg.randn(4).data
    ckpt = load(path)
    tg.set_rng_state(ckpt["rng"])
    np.testing.assert_array_equal(tg.randn(4).data, expected)


def test_model_and_optimizer_checkpoint_round_trip(tmp_path):
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    opt = optim.Adam(net.parameters(), lr=0.01)
    x = tg.randn(8, 4)
    net(x).sum().backward()
    opt.step()
    save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, tmp_path / "c")
    ckpt = load(tmp_path / "c")  # the path is used exactly as given
    fresh = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    fresh.load_state_dict(ckpt["model"])
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    fresh_opt.load_state_dict(ckpt["optimizer"])
    net.eval(), fresh.eval()
    np.testing.assert_array_equal(fresh(x).data, net(x).data)
    assert fresh_opt.param_groups[0]["lr"] == 0.01 and ckpt["epoch"] == 1
    np.testing.assert_array_equal(fresh_opt.state[fresh[0].weight]["exp_avg"],
                                  opt.state[net[0].weight]["exp_avg"])


def test_save_replaces_atomically_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = _saved(tmp_path, {"v": np.ones(3)})
    save({"v": np.zeros(3)}, path)
    np.testing.assert_array_equal(load(path)["v"], 0)

    def crash(*args, **kwargs):
        args[0].write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save({"v": np.full(3, 7.0)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["v"], 0)  # the old checkpoint survives
    assert os.listdir(tmp_path) == ["x.npz"]


def test_unsupported_objects_are_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match=r"save: cannot store a set \(at root\['a'\]\[1\]\)"):
        save({"a": [1, {2}]}, tmp_path / "bad.npz")
    with pytest.raises(TypeError, match=r"save: cannot store an array of dtype object"):
        save(np.array([None, 1]), tmp_path / "bad.npz")
    assert os.listdir(tmp_path) == []


def _damage(path, how):
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "flipped":
        data[len(data) // 3] ^= 0xFF
    elif how == "empty":
        data = b""
    elif how == "garbage":
        data = b"not a checkpoint at all" * 10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "flipped", "empty", "garbage"])
def test_damaged_files_raise_naming_the_path(tmp_path, how):
    path = _saved(tmp_path, {"w": np.arange(2000.0), "b": np.ones(10)})
    _damage(path, how)
    with pytest.raises(ValueError, match=f"load: {path} is damaged or not a tensorgrad checkpoint"):
        load(path)


def test_foreign_and_mismatched_files_raise(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.ones(2))
    with pytest.raises(ValueError, match=f"load: {plain} is damaged.*KeyError"):
        load(plain)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __structure__=np.array('{"format": "tensorgrad-checkpoint-1", "tree": 1}'),
             evil=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=f"load: {pickled} is damaged"):
        load(pickled)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, __structure__=np.array('{"format": "other-2", "tree": 1}'))
    with pytest.raises(ValueError, match="unsupported format 'other-2'"):
        load(wrong)
    dangling = tmp_path / "dangling.npz"
    np.savez(dangling, __structure__=np.array(
        '{"format": "tensorgrad-checkpoint-1", "tree": {"array": "9"}}'))
    with pytest.raises(ValueError, match=f"load: {dangling} is damaged"):
        load(dangling)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")
    assert zipfile.is_zipfile(plain)
