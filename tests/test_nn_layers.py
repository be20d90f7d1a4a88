"""Layers and functions of the PyTorch API beyond the basics, against PyTorch in float64
(forward, backward with random upstream gradients, train and eval modes where they differ),
and the edge cases PyTorch defines (zero-size layers, empty batches, empty kernels)."""
import warnings

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.functional as F
from helpers import assert_matches_torch, tg64
from tensorgrad import nn
from tensorgrad.testing import gradcheck

torch = pytest.importorskip("torch")
tnn, TF = torch.nn, torch.nn.functional
RNG = np.random.default_rng(0)


def test_linear_with_zero_in_features_is_pytorchs():
    """Linear(0, 3): weight (3, 0) left as is with PyTorch's warning, bias 0, output the bias."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = nn.Linear(0, 3)
    assert any("zero-element" in str(w.message) for w in caught)
    assert layer.weight.shape == (3, 0)
    np.testing.assert_array_equal(layer.bias.data, 0)
    x = tg.zeros(2, 0, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.shape == (2, 3) and x.grad.shape == (2, 0)
    np.testing.assert_array_equal(layer.bias.grad.data, 2)


def test_flatten_of_an_empty_batch_is_pytorchs():
    assert nn.Flatten()(tg.zeros(0, 2, 3)).shape == tuple(tnn.Flatten()(torch.zeros(0, 2, 3)).shape)
    assert tg.zeros(2, 0, 3).flatten(1).shape == (2, 0)
    assert tg.zeros(0, 4).flatten().shape == (0,)


@pytest.mark.parametrize("kernel", [(0, 0), (0, 2), (2, 0)])
def test_conv2d_refuses_an_empty_kernel(kernel):
    with pytest.raises(ValueError, match=r"conv2d: the kernel must not be empty, got kernel "
                                         rf"size \({kernel[0]}, {kernel[1]}\)"):
        F.conv2d(tg.ones(1, 2, 4, 4), tg.ones(3, 2, *kernel))
