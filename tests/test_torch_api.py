"""PyTorch's tensor API in tensorgrad: every call written the PyTorch way, compared with
PyTorch (values, and float64 gradients where defined) where it is installed; the structure
(named tuples, dtypes, devices, errors) is checked without it."""
import sys
import pathlib

import numpy as np
import pytest

import tensorgrad as tg
from helpers import assert_matches_torch, tg64
from tensorgrad.testing import gradcheck

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import torch_api_probe  # noqa: E402

# where tensorgrad deliberately differs from PyTorch (docs/porting.md says why)
DOCUMENTED_DIFFERENCES = {
    "x.var()",       # NumPy's spelling (no dim=/unbiased=/correction=) keeps NumPy's ddof=0
    "torch.std(x)",  # the same rule
    "x.type()",      # 'tensorgrad.FloatTensor', not 'torch.FloatTensor'
}


def test_every_probed_pytorch_call_runs():
    assert torch_api_probe.failures(compare=False) == {}


def test_every_probed_pytorch_call_matches_pytorch():
    pytest.importorskip("torch")
    failed = torch_api_probe.failures()
    assert set(failed) == DOCUMENTED_DIFFERENCES, failed


RNG = np.random.default_rng(15)


def distinct(*shape):
    """float64 values >= 0.1 apart in a random order (no ties for max/sort/median)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.37 - n * 0.15).reshape(shape)


# ---------------------------------------------------------------------------- spellings

SPELLINGS = [  # (op, NumPy's spelling, PyTorch's spelling)
    ("sum", lambda x: x.sum(axis=1, keepdims=True), lambda x: x.sum(dim=1, keepdim=True)),
    ("mean", lambda x: x.mean(axis=(0, 2)), lambda x: x.mean(dim=(0, 2))),
    ("amax", lambda x: x.amax(axis=-1, keepdims=True), lambda x: x.amax(dim=-1, keepdim=True)),
    ("argmax", lambda x: x.argmax(axis=1), lambda x: x.argmax(dim=1)),
    ("argmin", lambda x: x.argmin(axis=0, keepdims=True), lambda x: x.argmin(dim=0, keepdim=True)),
    ("softmax", lambda x: x.softmax(axis=0), lambda x: x.softmax(dim=0)),
    ("log_softmax", lambda x: x.log_softmax(axis=1), lambda x: x.log_softmax(dim=1)),
    ("logsumexp", lambda x: x.logsumexp(axis=2), lambda x: x.logsumexp(dim=2)),
    ("any", lambda x: (x > 0).any(axis=1), lambda x: (x > 0).any(dim=1)),
    ("all", lambda x: (x > -9).all(axis=0), lambda x: (x > -9).all(dim=0)),
    ("squeeze", lambda x: x[:, :1].squeeze(axis=1), lambda x: x[:, :1].squeeze(dim=1)),
    ("unsqueeze", lambda x: x.unsqueeze(axis=-1), lambda x: x.unsqueeze(dim=-1)),
    ("flatten", lambda x: x.flatten(start_axis=1), lambda x: x.flatten(start_dim=1)),
    ("flatten", lambda x: x.flatten(0, end_axis=1), lambda x: x.flatten(0, end_dim=1)),
    ("cat", lambda x: tg.cat([x, x], axis=2), lambda x: tg.cat([x, x], dim=2)),
    ("stack", lambda x: tg.stack([x, x], axis=1), lambda x: tg.stack([x, x], dim=1)),
    ("softmax", lambda x: tg.functional.softmax(x, axis=1), lambda x: tg.functional.softmax(x, dim=1)),
    ("log_softmax", lambda x: tg.functional.log_softmax(x, axis=1),
     lambda x: tg.functional.log_softmax(x, dim=1)),
    ("flatten", lambda x: tg.functional.flatten(x, start_axis=1),
     lambda x: tg.functional.flatten(x, start_dim=1)),
]


@pytest.mark.parametrize("op, numpy_way, torch_way", SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_numpy_and_pytorch_spellings_give_the_same_result(op, numpy_way, torch_way):
    x = tg.tensor(RNG.standard_normal((2, 3, 4)))
    a, b = numpy_way(x), torch_way(x)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("call, op", [
    (lambda x: x.sum(axis=0, dim=0), "sum"), (lambda x: x.mean(0, keepdims=True, keepdim=True), "mean"),
    (lambda x: x.max(dim=0, axis=0), "max"), (lambda x: x.min(0, keepdim=True, keepdims=True), "min"),
    (lambda x: x.var(axis=0, dim=0), "var"), (lambda x: x.softmax(axis=0, dim=0), "softmax"),
    (lambda x: tg.cat([x], axis=0, dim=0), "cat"), (lambda x: x.flatten(start_axis=0, start_dim=0), "flatten"),
    (lambda x: tg.sum(x, axis=1, dim=1), "sum")])
def test_both_spellings_at_once_is_an_error_naming_the_op(call, op):
    with pytest.raises(TypeError, match=rf"{op}: got both \w+= and \w+= .*give one"):
        call(tg.ones(2, 3))


def test_var_and_std_defaults_follow_the_spelling():
    x = tg.tensor([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]], dtype=tg.float64)
    data = x.data
    assert np.allclose(x.var().data, data.var())                        # NumPy: ddof=0
    assert np.allclose(x.var(1).data, data.var(1))
    assert np.allclose(x.var(dim=1).data, data.var(1, ddof=1))          # PyTorch: correction=1
    assert np.allclose(x.var(dim=1, unbiased=False).data, data.var(1))
    assert np.allclose(x.std(axis=0, correction=0).data, data.std(0))
    assert np.allclose(x.std(axis=0, ddof=1).data, data.std(0, ddof=1))
    with pytest.raises(TypeError, match="var: got ddof= and correction="):
        x.var(ddof=1, correction=1)


@pytest.mark.parametrize("tg_fn, torch_fn", [
    (lambda x: x.var(dim=1), lambda x: x.var(dim=1)),
    (lambda x: x.var(dim=0, unbiased=False, keepdim=True), lambda x: x.var(dim=0, unbiased=False, keepdim=True)),
    (lambda x: x.std(dim=(0, 1), correction=2), lambda x: x.std(dim=(0, 1), correction=2)),
    (lambda x: tg.var(x, dim=1), lambda x: x.var(dim=1)), (lambda x: x.std(dim=1), lambda x: x.std(dim=1))])
def test_var_std_pytorch_way_match_pytorch(tg_fn, torch_fn):
    array = RNG.standard_normal((4, 5))
    gradcheck(tg_fn, tg64(array))
    assert_matches_torch(tg_fn, torch_fn or tg_fn, [array])


# ---------------------------------------------------------------------------- named tuples


@pytest.mark.parametrize("name, call", [
    ("max", lambda x: x.max(1)), ("min", lambda x: x.min(dim=0, keepdim=True)),
    ("sort", lambda x: x.sort(dim=1, descending=True)), ("topk", lambda x: x.topk(2, dim=0)),
    ("median", lambda x: x.median(dim=-1)), ("max", lambda x: tg.max(x, dim=1)),
    ("sort", lambda x: tg.sort(x)), ("topk", lambda x: tg.topk(x, 3, largest=False))])
def test_selections_along_a_dim_return_named_values_and_indices(name, call):
    x = tg64(distinct(3, 4))
    out = call(x)
    assert type(out).__name__ == name and type(out) is getattr(tg.return_types, name)
    values, indices = out
    assert values is out.values and indices is out.indices
    assert indices.dtype == np.int64 and not indices.requires_grad and values.requires_grad
    assert values.shape == indices.shape


def test_without_dim_max_min_median_are_0d_tensors():
    x = tg64(distinct(3, 4))
    for out, expected in ((x.max(), x.data.max()), (x.min(), x.data.min()),
                          (x.median(), np.sort(x.data.reshape(-1))[5])):
        assert isinstance(out, tg.Tensor) and out.shape == () and out.item() == expected
    assert tg.max(x, tg.zeros(3, 4, dtype=tg.float64)).shape == (3, 4)  # elementwise form


SELECTIONS = [
    ("max dim", lambda x: x.max(1).values, lambda x: x.max(1).values),
    ("max keepdim", lambda x: x.max(dim=0, keepdim=True).values, lambda x: x.max(dim=0, keepdim=True).values),
    ("min dim", lambda x: x.min(-1)[0], lambda x: x.min(-1)[0]),
    ("sort", lambda x: x.sort(dim=0).values, lambda x: x.sort(dim=0).values),
    ("sort descending", lambda x: x.sort(1, descending=True)[0], lambda x: x.sort(1, descending=True)[0]),
    ("topk", lambda x: x.topk(3).values, lambda x: x.topk(3).values),
    ("topk smallest dim 0", lambda x: x.topk(2, dim=0, largest=False).values,
     lambda x: x.topk(2, dim=0, largest=False).values),
    ("median dim", lambda x: x.median(1).values, lambda x: x.median(1).values),
    ("median", lambda x: x.median(), lambda x: x.median()),
    ("max all", lambda x: x.max(), lambda x: x.max()),
]


@pytest.mark.parametrize("name, tg_fn, torch_fn", SELECTIONS, ids=[s[0] for s in SELECTIONS])
def test_selections_match_pytorch_values_indices_and_gradients(name, tg_fn, torch_fn):
    array = distinct(4, 5)
    gradcheck(tg_fn, tg64(array))
    assert_matches_torch(tg_fn, torch_fn, [array])


def test_selection_indices_match_pytorch():
    torch = pytest.importorskip("torch")
    array = distinct(4, 6)
    x, t = tg64(array), torch.tensor(array)
    for call in (lambda a: a.max(1), lambda a: a.min(0, keepdim=True), lambda a: a.sort(1),
                 lambda a: a.sort(0, descending=True), lambda a: a.topk(4), lambda a: a.median(1),
                 lambda a: a.topk(2, 0, False)):
        np.testing.assert_array_equal(call(x).indices.data, call(t).indices.numpy())
    tied = tg.tensor([[2.0, 1.0, 2.0, 1.0]])
    np.testing.assert_array_equal(tied.sort(1, stable=True).indices.data, [[1, 3, 0, 2]])


def test_selection_errors_name_the_op():
    x = tg.ones(2, 3)
    with pytest.raises(ValueError, match=r"topk: k=4 is out of range for dimension -1 of size 3"):
        x.topk(4)
    with pytest.raises(ValueError, match=r"sort: axis 2 is out of range"):
        x.sort(2)
    with pytest.raises(TypeError, match=r"median: dim must be one int"):
        x.median((0, 1))
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty dimension 1"):
        tg.zeros(2, 0).max(1)


# ---------------------------------------------------------------------------- Tensor methods

INDEX = np.array([[0, 2, 2], [1, 0, 3], [3, 3, 1]])  # repeats: scatter_add sums, gather adds back

METHODS = [  # (name, tensorgrad call, torch call (None: the same code), input shapes)
    ("gather dim 1", lambda x: x.gather(1, tg.tensor(INDEX)), lambda x: x.gather(1, _t(INDEX)), [(3, 4)]),
    ("gather dim 0 smaller index", lambda x: x.gather(0, tg.tensor(INDEX[:2, :2])),
     lambda x: x.gather(0, _t(INDEX[:2, :2])), [(4, 3)]),
    ("tg.gather", lambda x: tg.gather(x, 1, tg.tensor(INDEX)), lambda x: x.gather(1, _t(INDEX)), [(3, 4)]),
    ("scatter", lambda x, s: x.scatter(1, tg.tensor(np.array([[0, 2, 1], [3, 1, 0], [2, 0, 3]])), s),
     lambda x, s: x.scatter(1, _t(np.array([[0, 2, 1], [3, 1, 0], [2, 0, 3]])), s), [(3, 4), (3, 3)]),
    ("scatter dim 0", lambda x, s: x.scatter(0, tg.tensor(np.array([[1, 0]])), s),
     lambda x, s: x.scatter(0, _t(np.array([[1, 0]])), s), [(2, 3), (1, 2)]),
    ("scatter_add repeated", lambda x, s: x.scatter_add(1, tg.tensor(INDEX), s),
     lambda x, s: x.scatter_add(1, _t(INDEX), s), [(3, 4), (3, 3)]),
    ("masked_fill", lambda x: x.masked_fill(tg.tensor(MASK), -1.5), lambda x: x.masked_fill(_t(MASK), -1.5),
     [(2, 3)]),
    ("clamp", lambda x: x.clamp(-0.5, 0.5), None, [(3, 4)]),
    ("clamp min=", lambda x: x.clamp(min=-0.2), None, [(3, 4)]),
    ("clamp_min", lambda x: x.clamp_min(0.1), None, [(3, 4)]),
    ("clamp_max", lambda x: x.clamp_max(0.1), None, [(3, 4)]),
    ("tg.clamp", lambda x: tg.clamp(x, max=0.3), lambda x: x.clamp(max=0.3), [(3, 4)]),
    ("pow", lambda x: x.abs().pow(1.5), None, [(3, 4)]),
    ("sin", lambda x: x.sin(), None, [(3, 4)]), ("cos", lambda x: x.cos(), None, [(3, 4)]),
    ("norm", lambda x: x.norm(), None, [(3, 4)]), ("norm dim", lambda x: x.norm(dim=1), None, [(3, 4)]),
    ("norm p=1", lambda x: x.norm(p=1, dim=0, keepdim=True), None, [(3, 4)]),
    ("norm p=3", lambda x: x.norm(p=3), None, [(3, 4)]),
    ("norm inf", lambda x: x.norm(p=float("inf"), dim=1), None, [(3, 4)]),
    ("t", lambda x: x.t(), None, [(3, 4)]), ("t 1-D", lambda x: x.t(), None, [(4,)]),
    ("repeat", lambda x: x.repeat(2, 3), None, [(3, 4)]),
    ("repeat new axes", lambda x: x.repeat(2, 1, 3), None, [(3, 4)]),
    ("chunk", lambda x: x.chunk(3, dim=1)[1], None, [(2, 7)]),
    ("chunk last", lambda x: x.chunk(3, 1)[-1], None, [(2, 7)]),
    ("split int", lambda x: x.split(2)[2], None, [(5, 3)]),
    ("split sizes", lambda x: x.split([1, 3, 1], dim=1)[1], None, [(2, 5)]),
    ("view_as", lambda x: x.view_as(tg.zeros(4, 3)), lambda x: x.view_as(_t(np.zeros((4, 3)))), [(3, 4)]),
    ("reshape_as", lambda x: x.reshape_as(tg.zeros(12)), lambda x: x.reshape_as(_t(np.zeros(12))), [(3, 4)]),
    ("expand_as", lambda x: x.expand_as(tg.zeros(2, 3, 4)), lambda x: x.expand_as(_t(np.zeros((2, 3, 4)))),
     [(3, 1)]),
    ("view -1", lambda x: x.view(-1, 2), None, [(3, 4)]),
    ("tg.einsum matmul", lambda a, b: tg.einsum("ij,jk->ik", a, b),
     lambda a, b: _torch().einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    ("tg.einsum batch list", lambda a, b: tg.einsum("bij,bkj->bik", [a, b]),
     lambda a, b: _torch().einsum("bij,bkj->bik", [a, b]), [(2, 3, 4), (2, 5, 4)]),
    ("tg.einsum trace", lambda a: tg.einsum("ii", a), lambda a: _torch().einsum("ii", a), [(3, 3)]),
    ("tg.einsum diagonal", lambda a: tg.einsum("ii->i", a), lambda a: _torch().einsum("ii->i", a), [(3, 3)]),
    ("tg.einsum implicit", lambda a, b: tg.einsum("ij,kj", a, b), lambda a, b: _torch().einsum("ij,kj", a, b),
     [(2, 3), (4, 3)]),
    ("tg.einsum sum-only letter", lambda a, b: tg.einsum("ij,k->ik", a, b),
     lambda a, b: _torch().einsum("ij,k->ik", a, b), [(2, 3), (4,)]),
    ("tg.matmul", lambda a, b: tg.matmul(a, b), lambda a, b: a.matmul(b), [(2, 3), (3, 4)]),
]
MASK = np.array([[True, False, True], [False, False, True]])


def _torch():
    return pytest.importorskip("torch")


def _t(array):
    return _torch().tensor(array)


@pytest.mark.parametrize("name, tg_fn, torch_fn, shapes", METHODS, ids=[m[0] for m in METHODS])
def test_methods_match_pytorch_values_and_gradients(name, tg_fn, torch_fn, shapes):
    arrays = [RNG.standard_normal(s) + 0.05 for s in shapes]  # away from kinks at 0
    gradcheck(tg_fn, *(tg64(a) for a in arrays))
    assert_matches_torch(tg_fn, torch_fn or tg_fn, arrays)


def test_einsum_refuses_what_it_cannot_do():
    a = tg.ones(2, 3)
    with pytest.raises(ValueError, match=r"einsum: '\.\.\.' is not supported"):
        tg.einsum("...j->j", a)
    with pytest.raises(ValueError, match=r"einsum: term 'ijk' names 3 axes but its operand has shape \(2, 3\)"):
        tg.einsum("ijk->i", a)
    with pytest.raises(ValueError, match=r"einsum: equation 'ij,jk->ik' does not fit 1 operands"):
        tg.einsum("ij,jk->ik", a)


def test_gather_and_scatter_check_their_index():
    x = tg.ones(2, 3)
    with pytest.raises(IndexError, match=r"gather: index values must be in \[-3, 3\) for dimension 1"):
        x.gather(1, tg.tensor([[0, 3]]))
    with pytest.raises(ValueError, match=r"gather: index must be an integer tensor with 2 dims"):
        x.gather(1, tg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"scatter_add: index must be an integer tensor with 2 dims.*"
                                         r"outside dim 0"):
        x.scatter_add(0, tg.tensor([[0, 1, 0, 1]]), tg.ones(1, 4))
    with pytest.raises(ValueError, match=r"scatter: src of shape \(1, 1\) is smaller than index"):
        x.scatter(1, tg.tensor([[0, 1]]), tg.ones(1, 1))


def test_scatter_out_of_place_leaves_the_input_and_takes_a_number():
    x = tg.zeros(2, 3)
    out = x.scatter(1, tg.tensor([[2], [0]]), 7.0)
    np.testing.assert_array_equal(out.data, [[0, 0, 7], [7, 0, 0]])
    assert not x.data.any()
    np.testing.assert_array_equal(x.scatter_add(0, tg.tensor([[1, 1, 0]]), tg.ones(1, 3)).data,
                                  [[0, 0, 1], [1, 1, 0]])
    np.testing.assert_array_equal(x.scatter_add(1, tg.tensor([[0, 0]]), 2.5).data, [[5, 0, 0], [0, 0, 0]])
    src = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)  # larger than index
    out = x.scatter(0, tg.tensor([[1, 0]]), src)
    np.testing.assert_array_equal(out.data, [[0, 2, 0], [1, 0, 0]])
    out.backward(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(src.grad.data, [[3, 1, 0], [0, 0, 0]])  # only the corner it read


def test_comparisons_and_small_queries():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2 and x.dim() == 2
    assert x.numel() == 6 and tg.numel(x) == 6 and len(x) == 2
    for name, expected in (("eq", x.data == 2), ("ne", x.data != 2), ("lt", x.data < 2),
                           ("le", x.data <= 2), ("gt", x.data > 2), ("ge", x.data >= 2)):
        out = getattr(x, name)(2.0)
        assert out.dtype == np.bool_
        np.testing.assert_array_equal(out.data, expected)
        np.testing.assert_array_equal(getattr(tg, name)(x, 2.0).data, expected)
    with pytest.raises(IndexError, match=r"size: dimension 2 is out of range for a tensor of shape \(2, 3\)"):
        x.size(2)
    with pytest.raises(ValueError, match=r"t: expects a tensor of at most 2 dimensions, got shape \(1, 2, 3\)"):
        x.reshape(1, 2, 3).t()
    assert tg.allclose(x, x + 1e-9) and not tg.allclose(x, x + 1) and tg.equal(x, x.clone())
    assert not tg.equal(x, x.reshape(3, 2)) and tg.is_tensor(x) and not tg.is_tensor(x.data)


def test_python_number_conversions():
    assert float(tg.tensor(2.5)) == 2.5 and int(tg.tensor(3.7)) == 3 and int(tg.tensor([[4]])) == 4
    assert [10, 20, 30][tg.tensor(1)] == 20 and bool(tg.tensor(0.5)) and not bool(tg.tensor([0]))
    assert float(tg.tensor([1.5], requires_grad=True)) == 1.5
    with pytest.raises(TypeError, match=r"float\(\): only a tensor with one element .* shape \(2,\)"):
        float(tg.ones(2))
    with pytest.raises(TypeError, match=r"int\(\): only a tensor with one element .* shape \(2, 2\)"):
        int(tg.ones(2, 2))
    with pytest.raises(TypeError, match=r"only an integer tensor with one element can be used as an index"):
        [1, 2][tg.tensor(1.0)]
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tg.ones(2))
    with pytest.raises(TypeError, match="len"):
        len(tg.tensor(1.0))


def test_casts_and_type_names():
    x = tg.tensor([1.7, -2.2])
    for method, dtype, name in (("long", tg.int64, "LongTensor"), ("int", tg.int32, "IntTensor"),
                                ("bool", tg.bool, "BoolTensor"), ("half", tg.float16, "HalfTensor"),
                                ("double", tg.float64, "DoubleTensor"), ("float", tg.float32, "FloatTensor")):
        out = getattr(x, method)()
        assert out.dtype == dtype and out.type() == f"tensorgrad.{name}"
    np.testing.assert_array_equal(x.long().data, [1, -2])  # truncation, as PyTorch
    assert x.type(tg.float64).dtype == tg.float64 and tg.ones(2, dtype=tg.uint8).type() == "tensorgrad.ByteTensor"
    w = tg.ones(3, requires_grad=True)
    w.double().sum().backward()
    assert w.grad.dtype == np.float32  # the cast is differentiable, the gradient comes back cast


def test_top_level_functions_are_the_methods():
    x = tg.tensor(RNG.standard_normal((3, 4)))
    for name in tg.toplevel.MIRRORED:
        assert callable(getattr(tg, name)), name
        assert getattr(tg, name).__doc__.startswith(f"tg.{name}(x, ...) is x.{name}(...)")
    pairs = [(tg.exp(x), x.exp()), (tg.sum(x, dim=1), x.sum(1)), (tg.max(x, 1).values, x.max(1).values),
             (tg.flatten(x), x.flatten()), (tg.transpose(x, 0, 1), x.T), (tg.softmax(x, dim=0), x.softmax(0)),
             (tg.reshape(x, (2, 6)), x.reshape(2, 6)), (tg.squeeze(x[None]), x), (tg.sqrt(x.abs()), x.abs().sqrt()),
             (tg.argmax(x), x.argmax()), (tg.relu(x), x.relu()), (tg.abs(tg.tensor([-1.0])), tg.tensor([1.0]))]
    for a, b in pairs:
        assert tg.equal(a, b)
    namespace = {}
    exec("from tensorgrad import *", namespace)
    assert "exp" in namespace and "einsum" in namespace and "float32" in namespace
    for shadowing in ("max", "min", "sum", "abs", "all", "any", "pow", "float", "int", "bool"):
        assert shadowing not in namespace, shadowing  # builtins stay builtins


# ---------------------------------------------------------------------------- dtypes


def test_dtype_objects_are_numpy_dtypes_with_pytorch_names():
    expected = {"float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
                "float16": np.float16, "half": np.float16, "int64": np.int64, "long": np.int64,
                "int32": np.int32, "int": np.int32, "bool": np.bool_, "uint8": np.uint8}
    for name, numpy_type in expected.items():
        dtype = getattr(tg, name)
        assert isinstance(dtype, np.dtype) and dtype == numpy_type, name
        assert tg.zeros(2, dtype=dtype).dtype == dtype
        assert tg.tensor([1, 0], dtype=dtype).dtype == dtype
        assert tg.ones(2).to(dtype).dtype == dtype
    assert tg.ones(2).dtype == tg.float32 and tg.arange(3).dtype == tg.long
    assert tg.tensor([1.5]).dtype == tg.float32 and tg.tensor([1]).dtype == tg.int64
    assert tg.tensor([True]).dtype == tg.bool
    with pytest.raises(TypeError, match=r"zeros: 'fp32' is not a dtype"):
        tg.zeros(2, dtype="fp32")


@pytest.mark.parametrize("data, what", [
    ("abc", r"str 'abc'"), (b"xy", r"bytes b'xy'"), (np.datetime64("2020-01-01"), r"datetime64"),
    (np.zeros(2, dtype=[("a", np.int64)]), r"ndarray .*\('a', '<i8'\)"), ({"a": 1}, r"dict \{'a': 1\}"),
    (np.array([object()]), r"ndarray .*dtype object"), (["1", "2"], r"list \['1', '2'\]"),
    (__import__("datetime").date(2020, 1, 2), r"date datetime.date\(2020, 1, 2\)")])
def test_data_that_is_not_numbers_is_refused_naming_it(data, what):
    for make in (tg.tensor, tg.Tensor):
        with pytest.raises(TypeError, match=rf"tensor: cannot make a tensor from {what}.*tensors hold numbers"):
            make(data)


def test_ragged_data_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"tensor: cannot make a tensor from list \[\[1, 2\], \[3\]\]: "
                                         r".*inhomogeneous"):
        tg.tensor([[1, 2], [3]])


def test_complex_data_cannot_require_grad():
    with pytest.raises(TypeError, match="complex tensors cannot require gradients"):
        tg.tensor([1 + 1j], requires_grad=True)
    assert tg.tensor([1 + 1j]).dtype == tg.complex128  # without gradients it is data like any


# ---------------------------------------------------------------------------- devices


def test_devices_parse_print_and_compare_as_pytorch():
    cpu = tg.device("cpu")
    assert str(cpu) == "cpu" and repr(cpu) == "device(type='cpu')" and cpu.type == "cpu" and cpu.index is None
    cuda = tg.device("cuda:1")
    assert (cuda.type, cuda.index, str(cuda)) == ("cuda", 1, "cuda:1") and tg.device("cuda", 1) == cuda
    assert cpu == "cpu" and cpu != cuda and tg.device(cpu) == cpu and len({cpu, tg.device("cpu")}) == 1
    assert tg.ones(2).device == cpu and not tg.ones(2).is_cuda
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    with pytest.raises(ValueError, match=r"device: unknown device 'gpu'"):
        tg.device("gpu")
    with pytest.raises(TypeError, match=r"device: expected a device string"):
        tg.device(0.5)


def test_to_moves_and_casts_as_pytorch():
    x = tg.ones(2, 3, requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(None) is x and x.to(tg.device("cpu")) is x
    assert x.to(x) is x and x.to(device="cpu") is x
    assert x.to("cpu", tg.float64).dtype == tg.float64 and x.to(tg.device("cpu"), "float16").dtype == tg.half
    assert x.to(dtype=tg.float64).dtype == tg.float64 and x.to(tg.ones(1, dtype=tg.float64)).dtype == tg.float64
    copied = x.to("cpu", copy=True)
    assert copied is not x and copied.data is not x.data and tg.equal(copied, x)
    with pytest.raises(TypeError, match=r"to: the dtype is given twice"):
        x.to(tg.float64, tg.float32)


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "mps", tg.device("cuda", 1)])
def test_unavailable_devices_are_an_error_naming_them(spec):
    name = str(tg.device(spec))
    pattern = rf"device '{name}' is not available: tensorgrad runs on the CPU"
    with pytest.raises(RuntimeError, match="to: " + pattern):
        tg.ones(2).to(spec)
    with pytest.raises(RuntimeError, match="zeros: " + pattern):
        tg.zeros(2, device=spec)
    with pytest.raises(RuntimeError, match="tensor: " + pattern):
        tg.tensor([1.0], device=spec)
    with pytest.raises(RuntimeError, match="Module.to: " + pattern):
        tg.nn.Linear(2, 3).to(spec)


def test_module_to_takes_devices_and_dtypes():
    model = tg.nn.Linear(2, 3)
    weight = model.weight
    assert model.to("cpu") is model and model.to(tg.device("cpu")) is model and model.to(None) is model
    assert model.weight is weight and model.weight.dtype == tg.float32
    assert model.to("cpu", tg.float64).weight.dtype == tg.float64
    assert model.to(dtype=tg.float32).bias.dtype == tg.float32


# ---------------------------------------------------------------------------- creation


def test_creation_takes_pytorch_arguments():
    for make in (tg.zeros, tg.ones, tg.empty, tg.rand, tg.randn):
        for shape_args, kwargs in (((2, 3), {}), (((2, 3),), {}), (([2, 3],), {}), ((), {"size": (2, 3)})):
            out = make(*shape_args, dtype=tg.float64, device="cpu", requires_grad=True, **kwargs)
            assert out.shape == (2, 3) and out.dtype == tg.float64 and out.requires_grad
        with pytest.raises(TypeError, match=rf"{make.__name__}: the shape is given twice"):
            make(2, size=(2,))
    assert not tg.empty(3).data.any()  # zeros, never stale memory
    assert tg.full((2, 2), 7, dtype=tg.float64, device="cpu").dtype == tg.float64
    assert tg.full(size=(3,), fill_value=1.5).dtype == tg.float32
    assert tg.arange(0, 1, 0.25, device="cpu").dtype == tg.float32
    assert tg.eye(3, dtype=tg.int64, device="cpu").dtype == tg.int64
    for like in (tg.zeros_like, tg.ones_like, tg.empty_like, tg.rand_like, tg.randn_like):
        out = like(tg.ones(2, 3, dtype=tg.float64), device="cpu", requires_grad=True)
        assert out.shape == (2, 3) and out.dtype == tg.float64 and out.requires_grad


def test_random_integers_follow_the_seed():
    tg.manual_seed(3)
    a, p = tg.randint(0, 10, (50,)), tg.randperm(20)
    tg.manual_seed(3)
    b, q = tg.randint(0, 10, size=(50,)), tg.randperm(20)
    assert tg.equal(a, b) and tg.equal(p, q) and a.dtype == p.dtype == tg.int64
    assert 0 <= a.data.min() and a.data.max() < 10 and sorted(p.tolist()) == list(range(20))
    assert tg.randint(5, (2, 3)).shape == (2, 3) and tg.randint(5, (4,)).data.max() < 5
    assert tg.randint(2, 5, (3,), dtype=tg.int32).dtype == tg.int32
    with pytest.raises(TypeError, match=r"randint: expected randint\(high, size\)"):
        tg.randint(5)


def test_linspace_matches_pytorch():
    torch = pytest.importorskip("torch")
    for args in ((0, 1, 5), (-2.5, 3, 7), (1, 1, 1), (0, 10, 0)):
        ours, theirs = tg.linspace(*args), torch.linspace(*args)
        assert ours.dtype == tg.float32
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)
