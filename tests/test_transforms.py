"""Batch transforms: exact results against per-sample references, randomness, state, errors."""
import re

import numpy as np
import pytest

from tensorgrad.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip


def batch(n=6, c=2, h=5, w=7, dtype=np.float32, seed=0):
    """Values in [1, 2): no pixel equals padding, so every crop position is identifiable."""
    return (1 + np.random.default_rng(seed).random((n, c, h, w))).astype(dtype)


# ------------------------------------------------------------------ Normalize

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_per_channel(dtype):
    x = batch(c=3, dtype=dtype)
    mean, std = [0.5, 1.25, -2.0], [0.25, 2.0, 3.0]
    out = Normalize(mean, std)(x)
    assert out.dtype == dtype and out.shape == x.shape
    for c in range(3):
        expected = (x[:, c].astype(np.float64) - mean[c]) / std[c]
        np.testing.assert_allclose(out[:, c], expected, rtol=1e-6 if dtype == np.float32 else 1e-15)


def test_normalize_scalar_applies_to_all_channels():
    x = batch(c=3)
    np.testing.assert_array_equal(Normalize(0.1307, 0.3081)(x),
                                  Normalize([0.1307] * 3, [0.3081] * 3)(x))


@pytest.mark.parametrize("mean, std, message", [
    ([0.1, 0.2], [0.3],
     "mean and std must be scalars or sequences of one length, got shapes (2,) and (1,)"),
    ([[0.1]], [[0.3]], "got shapes (1, 1) and (1, 1)"),
    ([0.1, 0.2], [0.3, 0.0], "std must be positive, got [0.3, 0.0]"),
])
def test_normalize_rejects_bad_parameters(mean, std, message):
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        Normalize(mean, std)
    assert str(info.value).startswith("Normalize: ")


def test_normalize_rejects_channel_mismatch():
    with pytest.raises(ValueError, match=re.escape(
            "Normalize: 2 means and stds for an input with 3 channels (input (6, 3, 5, 7))")):
        Normalize([0, 0], [1, 1])(batch(c=3))


@pytest.mark.parametrize("transform", [Normalize(0, 1), RandomCrop(2), RandomHorizontalFlip()],
                         ids=["Normalize", "RandomCrop", "RandomHorizontalFlip"])
@pytest.mark.parametrize("x, kind", [
    (np.zeros((5, 5), np.float32), "float32 (5, 5)"),
    (np.zeros((2, 1, 5, 5), np.uint8), "uint8 (2, 1, 5, 5)"),
    ([[[[0.0]]]], "list"),
])
def test_transforms_reject_non_images(transform, x, kind):
    name = type(transform).__name__
    with pytest.raises(TypeError, match=re.escape(f"{name}: expected an image: ")) as info:
        transform(x)
    assert str(info.value).endswith(f"a floating (C, H, W) Tensor or array, or a floating "
                                    f"batch (N, C, H, W); got {kind}")


# ------------------------------------------------------------------ RandomCrop

@pytest.mark.parametrize("size, padding", [((4, 6), (1, 2)), (3, (0, 0)), ((9, 9), (1, 2)),
                                           (5, (1, 1))])
def test_random_crop_is_a_slice_of_the_padded_image(size, padding):
    x = batch()
    crop = RandomCrop(size, padding, seed=0)
    out = crop(x)
    (ch, cw), (pw, ph) = crop.size, crop.padding  # torchvision's order: left/right, top/bottom
    assert out.shape == (6, 2, ch, cw) and out.dtype == np.float32
    padded = np.zeros((6, 2, 5 + 2 * ph, 7 + 2 * pw), np.float32)
    padded[:, :, ph:ph + 5, pw:pw + 7] = x
    for n in range(6):  # reference: the unique offset whose window equals the output
        matches = [(t, l) for t in range(padded.shape[2] - ch + 1)
                   for l in range(padded.shape[3] - cw + 1)
                   if np.array_equal(padded[n, :, t:t + ch, l:l + cw], out[n])]
        assert len(matches) == 1


def test_random_crop_offsets_are_independent_and_uniform():
    """One marked pixel per image: where it lands in the crop identifies the offset. Over
    one batch every one of the 3 x 5 offsets appears about equally often."""
    n, h, w = 3000, 3, 5
    x = np.zeros((n, 1, h, w), np.float32)
    x[:, 0, 1, 2] = 1.0  # with padding (1, 2) and a (3, 5) crop it stays inside every crop
    out = RandomCrop((h, w), padding=(2, 1), seed=1)(x)  # left/right 2, top/bottom 1
    samples, positions = np.nonzero(out.reshape(n, h * w) == 1.0)
    np.testing.assert_array_equal(samples, np.arange(n))
    counts = np.bincount(positions, minlength=h * w)
    assert counts.min() > 0.7 * n / 15 and counts.max() < 1.3 * n / 15


def test_random_crop_seed_and_state():
    x = batch(n=8)
    a, b = RandomCrop(3, 2, seed=4), RandomCrop(3, 2, seed=4)
    np.testing.assert_array_equal(a(x), b(x))
    state = a.state_dict()
    first = a(x)
    assert not np.array_equal(first, a(x))
    a.load_state_dict(state)
    np.testing.assert_array_equal(a(x), first)


@pytest.mark.parametrize("size, padding, error, message", [
    (0, 0, ValueError, "size must be positive, got 0"),
    ((3, 2, 1), 0, TypeError, "size must be an int or a pair of ints, got (3, 2, 1)"),
    (3.0, 0, TypeError, "size must be an int or a pair of ints, got 3.0"),
    (3, -1, ValueError, "padding must be an int >= 0, or 2 of them (left/right, top/bottom) or 4 (left, "
            "top, right, bottom) as in torchvision, got -1"),
    (3, (1, 2, 3), ValueError, "as in torchvision, got (1, 2, 3)"),
])
def test_random_crop_rejects_bad_parameters(size, padding, error, message):
    with pytest.raises(error, match=re.escape(message)) as info:
        RandomCrop(size, padding)
    assert str(info.value).startswith("RandomCrop: ")


def test_random_crop_larger_than_padded_image():
    with pytest.raises(ValueError, match=re.escape(
            "RandomCrop: crop size (8, 7) is larger than the padded image (7, 9) "
            "(input (6, 2, 5, 7), padding 1)")):
        RandomCrop((8, 7), 1)(batch())


# ------------------------------------------------------------------ RandomHorizontalFlip

def test_flip_each_sample_is_itself_or_its_mirror():
    x = batch(n=400, w=4)
    original = x.copy()
    out = RandomHorizontalFlip(seed=0)(x)
    np.testing.assert_array_equal(x, original)  # input untouched
    same = np.all(out == x, axis=(1, 2, 3))
    mirrored = np.all(out == x[..., ::-1], axis=(1, 2, 3))
    assert np.all(same ^ mirrored)
    assert 150 < mirrored.sum() < 250


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_flip_probability_extremes(p):
    x = batch()
    out = RandomHorizontalFlip(p, seed=0)(x)
    np.testing.assert_array_equal(out, x[..., ::-1] if p else x)


def test_flip_rejects_bad_probability():
    message = "RandomHorizontalFlip: p must be in [0, 1], got 1.5"
    with pytest.raises(ValueError, match=re.escape(message)):
        RandomHorizontalFlip(1.5)


# ------------------------------------------------------------------ Compose and generators

def test_compose_applies_in_order_and_carries_state():
    x = batch()
    pipeline = Compose([RandomCrop(4, 1, seed=0), Normalize(0.5, 0.25), lambda v: v * 2,
                        RandomHorizontalFlip(seed=1)])
    state = pipeline.state_dict()
    assert state["transforms"][1] is None and state["transforms"][2] is None
    out = pipeline(x)
    expected = RandomHorizontalFlip(seed=1)((RandomCrop(4, 1, seed=0)(x) - 0.5) / 0.25 * 2)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    pipeline.load_state_dict(state)
    np.testing.assert_array_equal(pipeline(x), out)
