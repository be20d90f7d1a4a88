"""Helpers shared by the test files: float64 leaves and the PyTorch oracle."""

import numpy as np
import pytest

import tensorgrad as tg


def tg64(array, requires_grad=True):
    """A float64 tensorgrad leaf holding a copy of array."""
    return tg.tensor(np.array(array, dtype=np.float64), dtype="float64", requires_grad=requires_grad)


def torch_forward_backward(torch_fn, arrays, upstream):
    """Run torch_fn on float64 torch copies of arrays, backpropagate `upstream`, and return
    (output, [gradient or None per input]) as ndarrays. Skips the test when torch is absent."""
    torch = pytest.importorskip("torch")
    leaves = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = torch_fn(*leaves)
    out.backward(torch.tensor(upstream, dtype=out.dtype))
    return out.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in leaves]


def assert_matches_torch(tg_fn, torch_fn, arrays, rtol=1e-7, atol=1e-12, seed=0):
    """Forward and backward of tg_fn equal torch_fn's in float64 for a random upstream gradient."""
    inputs = [tg64(a) for a in arrays]
    out = tg_fn(*inputs)
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    expected, expected_grads = torch_forward_backward(torch_fn, arrays, upstream)
    np.testing.assert_allclose(out.data, expected, rtol=rtol, atol=atol)
    out.backward(upstream)
    for i, (t, g) in enumerate(zip(inputs, expected_grads)):
        got = np.zeros_like(t.data) if t.grad is None else t.grad.data
        want = np.zeros_like(t.data) if g is None else g
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")
