"""Unary and broadcasting binary primitives: gradcheck, PyTorch parity, dtypes, conventions."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorgrad as tg
from helpers import assert_matches_torch, tg64
from tensorgrad.ops.elementwise import unbroadcast
from tensorgrad.testing import gradcheck
from tensorgrad.testing import strategies as tst

# name -> (tensorgrad fn, torch fn, low, high): domains keep inputs away from kinks
UNARY = {
    "neg": (lambda x: -x, lambda x: -x, -3, 3),
    "exp": (lambda x: x.exp(), lambda x: x.exp(), -3, 3),
    "log": (lambda x: x.log(), lambda x: x.log(), 0.2, 4),
    "sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt(), 0.2, 4),
    "abs": (lambda x: x.abs(), lambda x: x.abs(), 0.1, 3),
    "relu": (lambda x: x.relu(), lambda x: x.relu(), 0.1, 3),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid(), -6, 6),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh(), -3, 3),
}

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, -3, 3),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, -3, 3),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, -3, 3),
    "div": (lambda a, b: a / b, lambda a, b: a / b, 0.5, 3),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, 0.5, 2),
    "maximum": (lambda a, b: a.maximum(b), lambda a, b: a.maximum(b), -3, 3),
    "minimum": (lambda a, b: a.minimum(b), lambda a, b: a.minimum(b), -3, 3),
}


def _signed(array, rng):
    """Random signs, so ops checked on positive domains (abs, relu) see both sides of the kink."""
    return array * rng.choice([-1.0, 1.0], size=array.shape)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_gradcheck_and_torch(name, data):
    fn, torch_fn, low, high = UNARY[name]
    array = data.draw(tst.arrays(tst.shapes(), low=low, high=high))
    if name in ("abs", "relu"):
        array = _signed(array, np.random.default_rng(array.size))
    gradcheck(fn, tg64(array))
    assert_matches_torch(fn, torch_fn, [array])


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_broadcasting_gradcheck_and_torch(name, data):
    fn, torch_fn, low, high = BINARY[name]
    shape_a, shape_b = data.draw(tst.broadcastable_shapes(2))
    a = data.draw(tst.arrays(shape_a, low=low, high=high))
    b = data.draw(tst.arrays(shape_b, low=low, high=high))
    if name in ("maximum", "minimum"):
        gap = np.abs(np.subtract(*np.broadcast_arrays(a, b)))
        if gap.size and gap.min() < 0.05:
            b = b + 7.0  # no ties: the tie convention is tested separately
    gradcheck(fn, tg64(a), tg64(b))
    assert_matches_torch(fn, torch_fn, [a, b])


def test_binary_with_one_constant_operand_skips_its_gradient():
    a = tg64(np.random.default_rng(0).uniform(0.5, 2, (3, 4)))
    b = tg64(np.random.default_rng(1).uniform(0.5, 2, (4,)), requires_grad=False)
    gradcheck(lambda x: x ** b, a)
    (a ** b).sum().backward()
    assert b.grad is None


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_the_gradient_evenly(op):
    a, b = tg64([1.0, 2.0, 3.0]), tg64([1.0, 5.0, 0.0])
    out = getattr(a, op)(b)
    out.backward(np.array([2.0, 4.0, 6.0]))
    if op == "maximum":
        np.testing.assert_array_equal(a.grad.data, [1.0, 0.0, 6.0])
        np.testing.assert_array_equal(b.grad.data, [1.0, 4.0, 0.0])
    else:
        np.testing.assert_array_equal(a.grad.data, [1.0, 4.0, 0.0])
        np.testing.assert_array_equal(b.grad.data, [1.0, 0.0, 6.0])


def test_kink_conventions_relu_and_abs_at_zero():
    x = tg64([0.0, 0.0])
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    y = tg64([0.0])
    y.abs().sum().backward()
    np.testing.assert_array_equal(y.grad.data, [0.0])


def test_sigmoid_is_finite_for_huge_inputs():
    x = tg.tensor([-1e4, 0.0, 1e4], requires_grad=True)
    out = x.sigmoid()
    np.testing.assert_allclose(out.data, [0.0, 0.5, 1.0])
    out.sum().backward()
    assert np.all(np.isfinite(x.grad.data))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float32_stays_float32(name):
    fn, *_ = UNARY[name]
    x = tg.tensor(np.random.default_rng(0).uniform(0.5, 2, (2, 3)), dtype=tg.float32, requires_grad=True)
    out = fn(x)
    out.backward(np.ones(out.shape, dtype=np.float32) * 0.5)
    assert x.dtype == out.dtype == x.grad.dtype == np.float32


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_float32_with_python_scalar_stays_float32(name):
    fn, *_ = BINARY[name]
    x = tg.tensor(np.random.default_rng(0).uniform(0.5, 2, (2, 3)), dtype=tg.float32, requires_grad=True)
    for out in (fn(x, 1.5), fn(x, x)):
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32


def test_reflected_scalar_ops():
    x = tg64([0.5, 2.0])
    out = 3.0 - x + 2.0 * x + 1.0 / x + 2.0 ** x
    out.backward(np.array([1.0, -1.0]))
    expected = np.array([1 - 1 / 0.25 + np.log(2) * 2 ** 0.5, -(1 - 1 / 4 + np.log(2) * 4)])
    np.testing.assert_allclose(x.grad.data, expected)


def test_mixed_float_dtypes_promote_and_grads_keep_each_inputs_dtype():
    a = tg.tensor([1.0, 2.0], requires_grad=True)                    # float32
    b = tg.tensor([3.0, 4.0], dtype="float64", requires_grad=True)   # float64
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])


def test_where_routes_gradient_by_condition():
    rng = np.random.default_rng(3)
    cond = rng.random((3, 4)) > 0.5
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    gradcheck(lambda x, y: tg.where(cond, x, y), tg64(a), tg64(b))
    torch = pytest.importorskip("torch")
    assert_matches_torch(lambda x, y: tg.where(cond, x, y),
                         lambda x, y: torch.where(torch.tensor(cond), x, y), [a, b])


def test_comparisons_give_bool_tensors_without_grad():
    x = tg64([1.0, 2.0, 3.0])
    for mask in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2):
        assert mask.dtype == np.bool_ and not mask.requires_grad
    np.testing.assert_array_equal((x > 1.5).data, [False, True, True])


def test_clip_passes_gradient_inside_and_on_the_boundary():
    x = tg64([-2.0, -1.0, 0.5, 1.0, 3.0])
    x.clip(-1.0, 1.0).backward(np.arange(1.0, 6.0))
    np.testing.assert_array_equal(x.grad.data, [0.0, 2.0, 3.0, 4.0, 0.0])


def test_unbroadcast_sums_leading_and_stretched_axes():
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(grad, (3, 1), np.float64),
                                  grad.sum(axis=(0, 2)).reshape(3, 1))
    assert unbroadcast(grad, (), np.float32).dtype == np.float32
