"""Argument checking (tensorgrad/_args.py): sizes, shapes, axes and int-or-pair parameters
of the wrong kind or value are refused with an error naming the op, never truncated or
passed on to NumPy."""
import re

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import nn
from tensorgrad.data.transforms import RandomCrop


def raises(error, message):
    return pytest.raises(error, match=re.escape(message))


@pytest.mark.parametrize("make, error, message", [
    (lambda: tg.zeros(2.7), TypeError, "zeros: a size must be an int, got float 2.7"),
    (lambda: tg.ones(2, "3"), TypeError, "ones: a size must be an int, got str '3'"),
    (lambda: tg.zeros(True), TypeError, "zeros: a size must be an int, got the bool True"),
    (lambda: tg.randn(2, -3), ValueError, "randn: sizes must be non-negative, got shape (2, -3)"),
    (lambda: tg.rand(-1), ValueError, "rand: sizes must be non-negative, got shape (-1,)"),
    (lambda: tg.full((2, 2.0), 1.0), TypeError, "full: a size must be an int, got float 2.0"),
    (lambda: tg.zeros(2**40, 2**40), ValueError,
     "zeros: shape (1099511627776, 1099511627776) has more elements than an array can hold"),
])
def test_creation_refuses_bad_sizes(make, error, message):
    with raises(error, message):
        make()


def test_creation_accepts_numpy_ints_and_both_spellings():
    assert tg.zeros(np.int64(2), 3).shape == (2, 3)
    assert tg.ones((2, 3)).shape == tg.ones([2, 3]).shape == (2, 3)
    assert tg.full(3, 2.0).shape == (3,) and tg.eye(2, 3).shape == (2, 3)
    assert tg.zeros(0, 4).shape == (0, 4)


@pytest.mark.parametrize("shape, error, message", [
    ((2.5, 2), TypeError, "reshape: a size must be an int, got float 2.5"),
    ((-2, 12), ValueError, "reshape: sizes must be non-negative (or -1), got shape (-2, 12)"),
    (("6", 4), TypeError, "reshape: a size must be an int, got str '6'"),
    ((-1, -1), ValueError, "reshape: only one size can be -1, got shape (-1, -1)"),
    (((6.0, 4),), TypeError, "reshape: a size must be an int, got float 6.0"),
])
def test_reshape_refuses_bad_sizes(shape, error, message):
    with raises(error, message):
        tg.ones(24).reshape(*shape)


def test_reshape_expand_permute_keep_their_valid_spellings():
    x = tg.ones(24)
    assert x.reshape(-1, 4).shape == x.reshape((6, -1)).shape == (6, 4)
    assert x.reshape(np.int32(4), 6).shape == (4, 6)
    assert tg.ones(3).expand(2, -1).shape == (2, 3)
    assert tg.ones(2, 3).permute(-1, 0).shape == (3, 2)
    with raises(TypeError, "permute: an axis must be an int, got float 1.0"):
        tg.ones(2, 3).permute(1.0, 0)
    with raises(ValueError, "expand: sizes must be non-negative (or -1), got shape (2, -3)"):
        tg.ones(3).expand(2, -3)


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.Conv2d(1, 2, 2.0), TypeError,
     "Conv2d: kernel_size must be an int or a pair of ints, got 2.0"),
    (lambda: nn.Conv2d(1, 2, (True, 2)), TypeError,
     "Conv2d: kernel_size must be an int or a pair of ints, got (True, 2)"),
    (lambda: nn.Conv2d(1, 2, 3, stride=0), ValueError, "Conv2d: stride must be positive, got 0"),
    (lambda: tg.functional.adaptive_avg_pool2d(tg.ones(1, 1, 4, 4), (2.0, 2)), TypeError,
     "adaptive_avg_pool2d: output_size must be an int or a pair of ints, got (2.0, 2)"),
    (lambda: RandomCrop((2, "2")), TypeError,
     "RandomCrop: size must be an int or a pair of ints, got (2, '2')"),
])
def test_pair_arguments_are_checked_alike(make, error, message):
    with raises(error, message):
        make()


def test_adaptive_pool_keeps_none_in_its_output_size():
    assert tg.functional.adaptive_avg_pool2d(tg.ones(1, 1, 4, 6), (None, 3)).shape == (1, 1, 4, 3)


def test_manual_seed_takes_pytorchs_range_and_maps_negative_seeds():
    assert tg.manual_seed(-1).integers(1 << 30) == tg.manual_seed(2**64 - 1).integers(1 << 30)
    assert tg.manual_seed(-1).integers(1 << 30) != tg.manual_seed(1).integers(1 << 30)
    with pytest.raises(ValueError, match=r"manual_seed: the seed must be in \[-2\*\*63"):
        tg.manual_seed(2**64)
    with pytest.raises(TypeError, match="manual_seed: the seed must be an int, got bool"):
        tg.manual_seed(True)


def test_argmax_of_an_empty_reduction_is_refused_but_not_of_an_empty_batch():
    with pytest.raises(ValueError, match=r"argmin: the tensor of shape \(2, 0\) is empty along "
                                         "axis 1"):
        tg.zeros(2, 0).argmin(axis=1)
    assert tg.zeros(0, 3).argmax(axis=1).shape == (0,)   # as in PyTorch: nothing to reduce


def test_forward_is_told_whether_it_is_recorded():
    seen = []

    class Probe(tg.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(ctx.is_recording)
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = tg.ones(2, requires_grad=True)
    Probe.apply(x)
    with tg.no_grad():
        Probe.apply(x)
    Probe.apply(tg.ones(2))
    assert seen == [True, False, False]
