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


# ---------------------------------------------------------------- hostile and malformed files

_STRUCT = '{"format": "tensorgrad-checkpoint-1", "tree": {"array": "0"}}'


def _npy(array):
    buffer = __import__("io").BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _zip(path, members, compression=zipfile.ZIP_STORED):
    """An npz written member by member: {name: bytes}, with the checkpoint's structure."""
    with zipfile.ZipFile(path, "w", compression) as z:
        z.writestr("__structure__.npy", _npy(np.array(_STRUCT)), zipfile.ZIP_STORED)
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_a_zip_bomb_is_refused_before_inflating(tmp_path):
    import tracemalloc
    bomb = _zip(tmp_path / "bomb.npz", {"0.npy": _npy(np.zeros(2 ** 24))}, zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 200_000   # 128 MiB of zeros inside
    tracemalloc.start()
    with pytest.raises(ValueError, match=r"member '0.npy' is compressed \(zip method 8, "
                                         r"deflate\).*refused without inflating it"):
        load(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000


def test_a_member_holding_more_than_its_array_is_refused(tmp_path):
    grown = _zip(tmp_path / "grown.npz", {"0.npy": _npy(np.zeros(4)) + bytes(1000)})
    with pytest.raises(ValueError, match=r"member '0.npy' declares shape \(4,\) of float64 "
                                         r"\(32 bytes\) but holds 1,032 bytes"):
        load(grown)


def test_a_huge_declared_shape_is_a_clear_error_not_a_memory_error(tmp_path):
    buffer = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10 ** 12,)})
    huge = _zip(tmp_path / "huge.npz", {"0.npy": buffer.getvalue() + bytes(24)})
    with pytest.raises(ValueError, match=r"declares shape \(1000000000000,\) of float64 "
                                         r"\(8,000,000,000,000 bytes\) but holds 24 bytes"):
        load(huge)


def _set_method(path, method):
    """Rewrite every member's compression method in the local and central headers."""
    data = bytearray(path.read_bytes())
    for signature, field in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(signature)
        while at >= 0:
            data[at + field: at + field + 2] = method.to_bytes(2, "little")
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_an_unsupported_compression_method_is_a_clear_error_and_one_cli_line(tmp_path, capsys):
    from tensorgrad.app.cli import main
    path = _zip(tmp_path / "checkpoint.npz", {"0.npy": _npy(np.ones(3))})
    _set_method(path, 98)   # PPMd: zipfile itself raises NotImplementedError for it
    with pytest.raises(ValueError, match=r"member '__structure__.npy' is compressed \(zip "
                                         r"method 98, ppmd\)"):
        load(path)
    assert main(["eval", "--checkpoint", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "zip method 98" in err and "Traceback" not in err


def test_members_that_overlap_are_refused(tmp_path):
    members = {"0.npy": _npy(np.ones(50_000))} | {f"{i}.npy": _npy(np.ones(1)) for i in (1, 2, 3)}
    path = _zip(tmp_path / "overlap.npz", members)
    data = bytearray(path.read_bytes())
    entries = [at for at in range(len(data)) if data.startswith(b"PK\x01\x02", at)]
    big = data[entries[1]:entries[1] + 46]     # entry 0 is __structure__, entry 1 is "0.npy"
    for at in entries[2:]:                     # the small members now claim the big one's data
        data[at + 20: at + 28], data[at + 42: at + 46] = big[20:28], big[42:46]
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"members declare \d+ bytes in all, more than the "
                                         r"file's \d+ bytes \(overlapping members\)"):
        load(path)


def test_a_member_that_is_not_an_npy_array_is_refused(tmp_path):
    path = _zip(tmp_path / "raw.npz", {"0.npy": _npy(np.ones(2)), "payload": b"raw bytes"})
    with pytest.raises(ValueError, match=r"damaged or not a tensorgrad checkpoint.*member "
                                         r"'payload' is not an .npy array"):
        load(path)


@pytest.mark.parametrize("depth", [150, 100_000])
def test_deeply_nested_structures_are_a_clear_error(tmp_path, depth):
    tree = "[" * depth + "]" * depth
    path = tmp_path / "deep.npz"
    np.savez(path, __structure__=np.array('{"format": "tensorgrad-checkpoint-1", "tree": '
                                          + tree + "}"))
    with pytest.raises(ValueError, match=r"damaged.*nested more than 100 deep"):
        load(path)


def test_saving_a_self_referencing_or_too_deep_structure_is_a_clear_error(tmp_path):
    loop = {"model": {}}
    loop["model"]["parent"] = loop
    with pytest.raises(ValueError, match=r"save: the dict at root\['model'\]\['parent'\] "
                                         r"contains itself"):
        save(loop, tmp_path / "loop.npz")
    deep = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError, match="save: containers are nested more than 100 deep"):
        save(deep, tmp_path / "deep.npz")
    shared = np.ones(2)
    save({"a": [shared], "b": [shared]}, tmp_path / "shared.npz")   # shared, not a loop: fine
    assert sorted(os.listdir(tmp_path)) == ["shared.npz"]
