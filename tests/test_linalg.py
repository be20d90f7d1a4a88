"""matmul: batched, broadcasting batch dimensions, 1-D operands as NumPy does."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorgrad as tg
from helpers import assert_matches_torch, tg64
from tensorgrad.testing import gradcheck
from tensorgrad.testing import strategies as tst


@st.composite
def matmul_shapes(draw):
    """Operand shapes for a @ b: optional broadcasting batch dims, and 1-D operands."""
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch_a, batch_b = draw(tst.broadcastable_shapes(2, max_dims=2, max_side=3))
    a = (k,) if draw(st.integers(0, 4)) == 0 else batch_a + (n, k)
    b = (k,) if draw(st.integers(0, 4)) == 0 else batch_b + (k, m)
    return a, b


@given(data=st.data())
def test_matmul_gradcheck_and_torch(data):
    shape_a, shape_b = data.draw(matmul_shapes())
    a, b = data.draw(tst.arrays(shape_a)), data.draw(tst.arrays(shape_b))
    gradcheck(lambda x, y: x @ y, tg64(a), tg64(b))
    assert_matches_torch(lambda x, y: x @ y, lambda x, y: x @ y, [a, b])


def test_matmul_float32_and_one_sided_gradient():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((5, 3)), dtype=tg.float32)
    w = tg.tensor(rng.standard_normal((4, 3)), dtype=tg.float32, requires_grad=True)
    out = x @ w.T
    out.backward(np.ones((5, 4), dtype=np.float32))
    assert out.dtype == w.grad.dtype == np.float32
    assert x.grad is None
    np.testing.assert_allclose(w.grad.data, np.ones((4, 5)) @ x.data, rtol=1e-6)


def test_matmul_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ: \(2, 3\) @ \(4, 5\)"):
        tg64(np.ones((2, 3))) @ tg64(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul: batch dimensions of \(2, 2, 3\) and \(3, 3, 4\)"):
        tg64(np.ones((2, 2, 3))) @ tg64(np.ones((3, 3, 4)))
    with pytest.raises(ValueError, match="matmul: operands must have at least 1 dimension"):
        tg64(np.ones(())) @ tg64(np.ones(3))
