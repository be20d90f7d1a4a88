"""tg.load of files written by torch.save (zip format): values byte-exact for every dtype,
strided and shared storages, Parameters, nested containers, a real LeNet-5 state_dict; and
pickles that would run code are refused, naming the global, before anything runs."""
import collections
import os
import pickle
import sys
import zipfile

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.nn.models import lenet5

torch = pytest.importorskip("torch")


def test_tensors_of_every_dtype_load_byte_exact(tmp_path):
    torch.manual_seed(0)
    tensors = {"f32": torch.randn(3, 4), "f64": torch.randn(5, dtype=torch.float64),
               "f16": torch.randn(2, 3).half(), "i64": torch.arange(-5, 5),
               "i32": torch.arange(6, dtype=torch.int32).reshape(2, 3),
               "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
               "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
               "bool": torch.tensor([True, False, True]), "scalar": torch.tensor(2.5),
               "empty": torch.zeros(0, 3)}
    torch.save(tensors, tmp_path / "t.pt")
    back = tg.load(tmp_path / "t.pt")
    assert list(back) == list(tensors)
    for name, t in tensors.items():
        assert isinstance(back[name], tg.Tensor) and not back[name].requires_grad
        assert back[name].dtype == t.numpy().dtype and back[name].shape == tuple(t.shape)
        assert back[name].data.tobytes() == t.numpy().tobytes(), name


def test_bfloat16_becomes_float32_exactly(tmp_path):
    t = torch.randn(7).bfloat16()
    torch.save({"b": t}, tmp_path / "b.pt")
    back = tg.load(tmp_path / "b.pt")["b"]
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back.data, t.float().numpy())


def test_strided_views_shared_storages_parameters_and_containers(tmp_path):
    base = torch.arange(24.0).reshape(4, 6)
    obj = {"t": base.t(), "cols": base[:, 1::2], "row": base[2], "base": base,
           "param": torch.nn.Parameter(torch.ones(2, 2)),
           "nested": [(1, "a", None), collections.OrderedDict(x=base[1:3, 2:])],
           "opt": {"lr": 0.1, "betas": (0.9, 0.999), "flags": {True, False}}}
    torch.save(obj, tmp_path / "s.pt")
    back = tg.load(tmp_path / "s.pt", map_location="cpu", weights_only=True)
    for key in ("t", "cols", "row", "base"):
        np.testing.assert_array_equal(back[key].data, obj[key].numpy())
    np.testing.assert_array_equal(back["nested"][1]["x"].data, base[1:3, 2:].numpy())
    assert isinstance(back["param"], tg.nn.Parameter) and back["param"].requires_grad
    assert back["nested"][0] == (1, "a", None) and back["opt"] == obj["opt"]
    assert isinstance(back["nested"][1], collections.OrderedDict)
    back["t"].data[0, 0] = 99   # copies: writing one does not change another
    assert back["base"].data[0, 0] == 0


def test_a_torch_lenet5_state_dict_loads_into_tensorgrads_lenet5(tmp_path):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    try:
        from common import torch_model
    finally:
        sys.path.pop(0)
    torch.manual_seed(3)
    twin = torch_model(torch, "lenet5", 1, 10, 784)
    torch.save(twin.state_dict(), tmp_path / "lenet5.pt")
    model = lenet5()
    model.load_state_dict(tg.load(tmp_path / "lenet5.pt"))
    x = torch.randn(4, 1, 28, 28)
    model.eval(), twin.eval()
    with torch.no_grad():
        expected = twin(x).numpy()
    np.testing.assert_allclose(model(tg.tensor(x.numpy())).data, expected, rtol=1e-4, atol=1e-5)
    for name, value in twin.state_dict().items():
        assert model.state_dict()[name].tobytes() == value.numpy().tobytes()


class _Evil:
    def __init__(self, how):
        self.how = how

    def __reduce__(self):
        return self.how


@pytest.mark.parametrize("how, name", [
    (lambda p: (os.system, (f"touch {p}",)), r"(posix|os)\.system"),
    (lambda p: (open, (str(p), "w")), r"(io|builtins)\.open"),
    (lambda p: (eval, (f"open({str(p)!r}, 'w')",)), r"builtins\.eval"),
])
def test_pickles_that_would_run_code_are_refused_and_create_nothing(tmp_path, how, name):
    victim = tmp_path / "created"
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.ones(2)}, path)
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    pkl = next(n for n in members if n.endswith("data.pkl"))
    members[pkl] = pickle.dumps({"w": _Evil(how(victim))}, protocol=2)
    with zipfile.ZipFile(path, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    for weights_only in (True, False):
        with pytest.raises(ValueError, match=f"the pickle refers to {name}, which tensorgrad "
                                             "does not run"):
            tg.load(path, weights_only=weights_only)
    assert not victim.exists()


def test_a_pickled_module_map_location_and_the_legacy_format_are_clear_errors(tmp_path):
    torch.save(torch.nn.Linear(2, 1), tmp_path / "module.pt")
    with pytest.raises(ValueError, match=r"torch\.nn\.modules\.linear\.Linear.*save its "
                                         r"state_dict\(\) instead"):
        tg.load(tmp_path / "module.pt")
    torch.save({"w": torch.ones(1)}, tmp_path / "w.pt")
    assert tg.load(tmp_path / "w.pt", map_location=torch.device("cpu"))["w"].item() == 1
    with pytest.raises(ValueError, match=r"map_location='cuda:0': tensorgrad has only the CPU"):
        tg.load(tmp_path / "w.pt", map_location="cuda:0")
    torch.save({"w": torch.ones(1)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match=r"PyTorch's legacy .* format.*re-save it with "
                                         r"torch.save"):
        tg.load(tmp_path / "old.pt")
