"""Tensor creation, dtype rules and array facts."""
import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.random import new_generator


def test_float_data_defaults_to_float32_and_dtype_accepts_numpy_spellings():
    assert tg.tensor([1.0, 2.0]).dtype == np.float32
    assert tg.tensor(np.zeros(3)).dtype == np.float64          # an ndarray keeps its dtype (as torch)
    assert tg.tensor(np.zeros(3, np.float32)).dtype == np.float32
    for spelling in ("float64", np.float64, "f8", np.dtype("float64"), tg.float64):
        assert tg.tensor([1.0], dtype=spelling).dtype == np.float64
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.from_numpy(np.zeros(3)).dtype == np.float64      # wrapping keeps the dtype


def test_set_default_dtype():
    try:
        tg.set_default_dtype("float64")
        assert tg.tensor([1.0]).dtype == tg.randn(2).dtype == tg.zeros(1).dtype == np.float64
    finally:
        tg.set_default_dtype("float32")
    assert tg.get_default_dtype() == np.float32
    with pytest.raises(TypeError, match="set_default_dtype: expected a floating dtype"):
        tg.set_default_dtype("int32")


def test_python_scalars_never_change_the_dtype():
    x = tg.tensor([1.0, 2.0])
    for out in (x + 1, 2.5 * x, x / 3, x ** 2, 1 - x, x.maximum(0.5), x * np.float64(2)):
        assert out.dtype == np.float32
    i = tg.tensor([1, 2])
    assert (i + 1).dtype == np.int64
    assert (i * 0.5).dtype == np.float64  # integer tensors with float scalars follow NumPy


def test_creation_functions():
    assert tg.zeros(2, 3).shape == tg.ones((2, 3)).shape == (2, 3)
    np.testing.assert_array_equal(tg.full((2,), 7.0).data, [7.0, 7.0])
    assert tg.full((2,), 7.0).dtype == np.float32
    np.testing.assert_array_equal(tg.arange(5).data, np.arange(5))
    assert tg.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_array_equal(tg.eye(3, dtype="float64").data, np.eye(3))
    x = tg.randn(3, 4, dtype="float64")
    assert tg.zeros_like(x).dtype == tg.ones_like(x).dtype == tg.rand_like(x).dtype == np.float64
    assert tg.full_like(x, 2).shape == tg.randn_like(x).shape == (3, 4)
    r = tg.rand(1000)
    assert r.data.min() >= 0 and r.data.max() < 1
    with pytest.raises(TypeError, match="randn: expected a floating dtype"):
        tg.randn(2, dtype="int64")


def test_manual_seed_makes_random_tensors_reproducible():
    tg.manual_seed(123)
    a, b = tg.randn(5), tg.rand(5)
    tg.manual_seed(123)
    np.testing.assert_array_equal(a.data, tg.randn(5).data)
    np.testing.assert_array_equal(b.data, tg.rand(5).data)
    state = tg.get_rng_state()
    c = tg.randn(3)
    tg.set_rng_state(state)
    np.testing.assert_array_equal(c.data, tg.randn(3).data)


def test_tensor_copies_data_and_numpy_shares_it():
    array = np.ones(3, dtype=np.float32)
    t = tg.tensor(array)
    array[0] = 5
    assert t.data[0] == 1
    assert t.numpy() is t.data
    assert np.asarray(t) is t.data


def test_array_facts_item_and_errors():
    x = tg.tensor([[1.0, 2.0, 3.0]])
    assert (x.shape, x.ndim, x.numel(), len(x)) == ((1, 3), 2, 3, 1)
    assert x.sum().item() == 6.0
    with pytest.raises(ValueError, match=r"item: only one-element tensors .* shape \(1, 3\)"):
        x.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="cannot make a tensor from"):
        tg.tensor([object()])


def test_repr_shows_values_dtype_and_grad_state():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], dtype=float32, requires_grad=True)"
    assert "grad_fn=Mul" in repr(x * 2)


def test_cast_is_differentiable_and_returns_the_input_dtype_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    assert x.to("float32") is x


def test_setitem_is_refused_on_leaves_that_require_grad_while_recording():
    t = tg.zeros(3)
    t[1] = 5.0
    np.testing.assert_array_equal(t.data, [0, 5, 0])
    w = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: a leaf tensor that requires grad"):
        w[0] = 1.0
    with tg.no_grad():          # as in PyTorch: allowed outside recording, and counted
        w[0] = 1.0
    np.testing.assert_array_equal(w.data, [1, 0, 0])
    assert w._version == 1


def test_ndarray_on_the_left_dispatches_to_tensor():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([2.0, 3.0], dtype=np.float32) * x
    assert isinstance(y, tg.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 3.0])


def test_new_generator_is_seeded_from_the_global_one():
    g = np.random.default_rng(0)
    assert new_generator(g) is g
    assert new_generator(7).random() == np.random.default_rng(7).random()
    tg.manual_seed(11)
    first = new_generator(None).random()
    tg.manual_seed(11)
    assert new_generator(None).random() == first
    assert new_generator(None).random() != first
