"""Reductions (sum, max, min) and the composites built on them (mean, var, std, logsumexp,
softmax, log_softmax)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorgrad as tg
from helpers import assert_matches_torch, tg64
from tensorgrad.testing import gradcheck
from tensorgrad.testing import strategies as tst


@st.composite
def array_and_axes(draw, min_dims=0):
    """An array and a reduction spec: None, or a tuple of distinct (possibly negative) axes."""
    shape = draw(tst.shapes(min_dims=min_dims))
    array = draw(tst.arrays(shape))
    if draw(st.booleans()) or not shape:
        return array, None
    axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    return array, tuple(a - len(shape) if draw(st.booleans()) else a for a in axes)


def _torch_dims(axes, ndim):
    return tuple(range(ndim)) if axes is None else axes


def _distinct(array):
    """Same shape, all elements distinct and >= 0.01 apart: no max/min ties."""
    ranks = np.argsort(np.argsort(array.reshape(-1), kind="stable")).reshape(array.shape)
    return ranks * 0.37 - 1.0


@pytest.mark.parametrize("op", ["sum", "mean"])
@given(case=array_and_axes(), keepdims=st.booleans())
def test_sum_and_mean(op, case, keepdims):
    array, axes = case
    fn = lambda x: getattr(x, op)(axes, keepdims)  # noqa: E731
    gradcheck(fn, tg64(array))
    assert_matches_torch(fn, lambda x: getattr(x, op)(_torch_dims(axes, array.ndim), keepdim=keepdims),
                         [array])


@pytest.mark.parametrize("op", ["max", "min"])
@given(case=array_and_axes(), keepdims=st.booleans())
def test_max_min_without_ties(op, case, keepdims):
    array, axes = case
    array = _distinct(array)
    fn = lambda x: getattr(x, op)(axes, keepdims)  # noqa: E731
    gradcheck(fn, tg64(array))
    torch_op = "amax" if op == "max" else "amin"
    assert_matches_torch(fn, lambda x: getattr(x, torch_op)(_torch_dims(axes, array.ndim), keepdim=keepdims),
                         [array])


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_ties_share_the_gradient_evenly(op):
    x = tg64([[2.0, 2.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0]]
             if op == "max" else [[1.0, 1.0, 2.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    getattr(x, op)(axis=1).backward(np.array([3.0, 8.0]))
    np.testing.assert_allclose(x.grad.data, [[1.0, 1.0, 0.0, 1.0], [2.0, 2.0, 2.0, 2.0]])


@pytest.mark.parametrize("ddof", [0, 1])
@given(data=st.data())
def test_var_and_std(ddof, data):
    array = data.draw(tst.arrays(tst.shapes(min_dims=2, min_side=3)))
    array = _distinct(array)  # std is not differentiable at var == 0
    gradcheck(lambda x: x.var(1, ddof=ddof), tg64(array))
    gradcheck(lambda x: x.std((0, -1), keepdims=True, ddof=ddof), tg64(array))
    assert_matches_torch(lambda x: x.var(1, ddof=ddof), lambda x: x.var(1, correction=ddof), [array])
    assert_matches_torch(lambda x: x.std((0, -1), True, ddof), lambda x: x.std((0, -1), correction=ddof,
                                                                                 keepdim=True), [array])


@given(array_and_axes(min_dims=1), st.booleans())
def test_logsumexp(case, keepdims):
    array, axes = case
    axes = axes if axes is not None else tuple(range(array.ndim))
    gradcheck(lambda x: x.logsumexp(axes, keepdims), tg64(array))
    assert_matches_torch(lambda x: x.logsumexp(axes, keepdims),
                         lambda x: x.logsumexp(axes, keepdim=keepdims), [array])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax(axis):
    array = np.random.default_rng(axis + 5).standard_normal((3, 4, 5)) * 3
    gradcheck(lambda x: x.softmax(axis), tg64(array))
    gradcheck(lambda x: x.log_softmax(axis), tg64(array))
    assert_matches_torch(lambda x: x.softmax(axis), lambda x: x.softmax(axis), [array])
    assert_matches_torch(lambda x: x.log_softmax(axis), lambda x: x.log_softmax(axis), [array])


def test_logsumexp_and_softmax_are_finite_for_huge_logits():
    x = tg.tensor([[1e30, -1e30, 0.0], [5e3, 5e3, -5e3]], requires_grad=True)
    lse = x.logsumexp(1)
    np.testing.assert_allclose(lse.data, [1e30, 5e3 + np.log(2)], rtol=1e-6)
    (lse.sum() + x.log_softmax(1)[:, 0].sum()).backward()
    assert np.all(np.isfinite(x.grad.data))
    assert np.all(np.isfinite(x.softmax(1).data))


def test_reductions_keep_float32_and_validate_axes():
    x = tg.tensor(np.ones((2, 3)), dtype=tg.float32, requires_grad=True)
    for out in (x.sum(), x.mean(0), x.max(1).values, x.amax(1), x.var(), x.logsumexp(0)):
        assert out.dtype == np.float32
    x.var().backward()
    assert x.grad.dtype == np.float32
    with pytest.raises(ValueError, match=r"sum: axis 2 is out of range .* 2 dimensions"):
        x.sum(2)
    with pytest.raises(ValueError, match="max: repeated axis"):
        x.max((1, -1))
    with pytest.raises(ValueError, match="max: cannot reduce an empty tensor"):
        tg.zeros(0, 3).max()


def test_argmax_gives_int_indices_without_grad():
    x = tg64([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]])
    idx = x.argmax(1)
    assert idx.dtype == np.int64 and not idx.requires_grad
    np.testing.assert_array_equal(idx.data, [1, 0])
