"""conv2d: gradients (finite differences), PyTorch equality over asymmetric geometries, dtype,
skipped gradients, and every validation error."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorgrad as tg
import tensorgrad.ops.conv as conv_module
from helpers import assert_matches_torch, tg64
from tensorgrad.ops.conv import Conv2d, conv2d
from tensorgrad.testing import gradcheck
from tensorgrad.testing import strategies as tst

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")


def _arrays(cfg, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(cfg["x_shape"]), rng.standard_normal(cfg["weight_shape"])]
    if cfg["bias"]:
        arrays.append(rng.standard_normal(cfg["weight_shape"][0]))
    return arrays


@given(cfg=tst.conv2d_configs(), seed=st.integers(0, 2**16))
def test_conv2d_gradcheck(cfg, seed):
    inputs = [tg64(a) for a in _arrays(cfg, seed)]
    gradcheck(lambda *t: conv2d(*t, **cfg["kwargs"]), *inputs)


def _images_per_product(per_product: str):
    """A stand-in for conv's choice: one image per matrix product, half of them (when N is
    even), or all."""
    def choose(g, k):
        n = g.input[0]
        return {"one": 1, "half": n // 2 if n % 2 == 0 else 1, "all": n}[per_product]
    return choose


@pytest.mark.parametrize("per_product", ["one", "half", "all", "blocks"])
@given(cfg=tst.conv2d_configs(), seed=st.integers(0, 2**16))
def test_conv2d_matches_torch(per_product, cfg, seed):
    """Every layout of the matrix products: one per image, per group of images, shared, and
    shared within blocks of 2 images whose columns backward makes again (the last block
    shorter when N is odd)."""
    torch = pytest.importorskip("torch")
    kwargs = cfg["kwargs"]
    with pytest.MonkeyPatch.context() as patch:
        if per_product == "blocks":
            patch.setattr(conv_module, "_training_block", lambda *geometry: 2)
            per_product = "all"
        patch.setattr(conv_module, "_images_per_product", _images_per_product(per_product))
        assert_matches_torch(lambda *t: conv2d(*t, **kwargs),
                             lambda *t: torch.nn.functional.conv2d(*t, **kwargs),
                             _arrays(cfg, seed), seed=seed)


@pytest.mark.parametrize("kwargs", [
    dict(padding=(2, 1)),                                  # wide rows in the input gradient
    dict(padding="same", dilation=(1, 2)),                 # odd same-padding: extra at the end
    dict(stride=(2, 3), padding=(1, 0), dilation=(1, 2)),  # strided, no wide rows
    dict(padding=1, groups=3),                             # depthwise
])
@pytest.mark.parametrize("per_product", ["one", "half", "all"])
def test_conv2d_larger_shapes_match_torch(kwargs, per_product, monkeypatch):
    """Shapes past the hypothesis sizes, with one matrix product per image, per pair of
    images, and one shared by all images."""
    monkeypatch.setattr(conv_module, "_images_per_product", _images_per_product(per_product))
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    groups = kwargs.get("groups", 1)
    arrays = [rng.standard_normal((4, 6, 11, 14)), rng.standard_normal((9, 6 // groups, 4, 3)),
              rng.standard_normal(9)]
    assert_matches_torch(lambda *t: conv2d(*t, **kwargs),
                         lambda *t: torch.nn.functional.conv2d(*t, **kwargs), arrays)


@pytest.mark.parametrize("kernel, dilation", [((3, 4), (1, 1)), ((2, 3), (3, 1)),
                                              ((4, 2), (1, 2))])
def test_conv2d_uneven_same_padding_matches_torch(kernel, dilation):
    """padding="same" with an even reach puts one more row or column of padding at the end:
    the stride-1 input gradient, whose planes share padding between neighbours, must keep
    each plane's gradient out of the next one's (here in rows, in columns, and in both)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((3, 5, 7, 6)), rng.standard_normal((4, 5, *kernel)),
              rng.standard_normal(4)]
    kwargs = dict(padding="same", dilation=dilation)
    assert_matches_torch(lambda *t: conv2d(*t, **kwargs),
                         lambda *t: torch.nn.functional.conv2d(*t, **kwargs), arrays)


@pytest.mark.parametrize("x_shape, k, expected", [
    ((64, 1, 28, 28), 6, 1),     # LeNet c1: 784 output pixels, one image per product
    ((64, 6, 14, 14), 16, 4),    # LeNet c2: 100 pixels, 4 images give 400 columns
    ((61, 6, 14, 14), 16, 1),    # no divisor of a prime batch between 1 and 61
    ((6, 6, 14, 14), 16, 3),     # the largest divisor of 6 not above 4
    ((64, 32, 16, 16), 64, 64),  # CIFAR c2: big enough that all images share one product
])
def test_images_per_product(x_shape, k, expected):
    x, w = np.empty(x_shape, np.float32), np.empty((k, x_shape[1], 5, 5), np.float32)
    g = conv_module._geometry(x, w, None, 1, 0 if x_shape[2] < 16 else 2, 1, 1)
    assert conv_module._images_per_product(g, k) == expected


@pytest.mark.parametrize("x_shape, k, groups, expected", [
    ((128, 16, 32, 32), 16, 1, 7),      # ResNet-20 stage 1: 75 MB of columns, 7 images in 4 MiB
    ((128, 32, 16, 16), 32, 1, 14),     # stage 2: 288 rows of 256 pixels an image
    ((128, 32, 16, 16), 64, 1, 128),    # cifar_cnn c2: 64 channels, arithmetic-bound, whole
    ((128, 64, 16, 16), 128, 2, 128),   # 64 channels per group: whole
    ((128, 64, 16, 16), 64, 2, 14),     # 32 per group: blocks
    ((64, 6, 14, 14), 16, 1, 64),       # LeNet c2: 4 images per product, nothing to block
    ((4, 16, 32, 32), 16, 1, 4),        # columns under 4 MiB (2.4 MB)
])
def test_training_block_only_for_thin_shared_products(x_shape, k, groups, expected):
    x = np.empty(x_shape, np.float32)
    w = np.empty((k, x_shape[1] // groups, 3, 3), np.float32)
    g = conv_module._geometry(x, w, None, 1, 1, 1, groups)
    assert conv_module._training_block(g, k, False, 4) == expected
    if expected < x_shape[0]:   # the largest block whose columns fit
        size = g.rows * x_shape[2] * x_shape[3] * 4
        assert expected * size <= conv_module.TRAINING_COLUMN_BYTES < (expected + 1) * size


def test_conv2d_without_recording_goes_by_blocks_of_images(monkeypatch):
    """Under no_grad the images are convolved in blocks (here of 4: blocks of 4, 4 and 3):
    the same output as all at once, with and without bias."""
    monkeypatch.setattr(conv_module, "INFERENCE_BLOCK", 4)
    rng = np.random.default_rng(5)
    x, w, b = (tg64(rng.standard_normal(s)) for s in [(11, 3, 7, 9), (5, 3, 3, 2), (5,)])
    for bias in (b, None):
        recorded = conv2d(x, w, bias, stride=(2, 1), padding=(1, 0))
        with tg.no_grad():
            blocked = conv2d(x, w, bias, stride=(2, 1), padding=(1, 0))
        np.testing.assert_array_equal(blocked.data, recorded.data)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=(2, 1), padding=(1, 0)),
                                    dict(padding="same", dilation=(2, 1))])
def test_conv2d_of_an_empty_batch(kwargs):
    """N = 0 gives an empty output of the right shape (a one-image batch's, without the
    image) and zero weight and bias gradients, recorded or not."""
    x, w, b = tg64(np.zeros((0, 3, 8, 7))), tg64(np.ones((4, 3, 3, 2))), tg64(np.ones(4))
    out = conv2d(x, w, b, **kwargs)
    out.sum().backward()
    one_image = conv2d(tg64(np.zeros((1, 3, 8, 7))), w, b, **kwargs)
    assert out.shape == (0,) + one_image.shape[1:] and x.grad.shape == x.shape
    assert not w.grad.data.any() and not b.grad.data.any()
    with tg.no_grad():
        assert conv2d(x, w, b, **kwargs).shape == out.shape


def test_conv2d_same_padding_keeps_size_and_puts_extra_at_bottom_right():
    x = tg.ones(1, 1, 4, 5, dtype="float64")
    w = tg.ones(1, 1, 2, 2, dtype="float64")
    out = conv2d(x, w, padding="same").data[0, 0]
    assert out.shape == (4, 5)
    # the kernel's extra tap hangs over the bottom / right edge, where the padding is
    np.testing.assert_array_equal(out[-1], [2, 2, 2, 2, 1])
    np.testing.assert_array_equal(out[:-1, -1], [2, 2, 2])
    assert (out[:-1, :-1] == 4).all()


def test_conv2d_float32_stays_float32():
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((2, 3, 7, 6)), dtype=tg.float32, requires_grad=True)
    w = tg.tensor(rng.standard_normal((4, 3, 3, 2)), dtype=tg.float32, requires_grad=True)
    b = tg.tensor(rng.standard_normal(4), dtype=tg.float32, requires_grad=True)
    out = conv2d(x, w, b, stride=(1, 2), padding=1)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    ref = conv2d(tg64(x.data, False), tg64(w.data, False), tg64(b.data, False),
                 stride=(1, 2), padding=1)
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-5, atol=1e-5)


def test_conv2d_skips_the_input_gradient_of_a_first_layer(monkeypatch):
    """x without requires_grad: no dX is computed (col2im never runs), dW and db still right."""
    def forbidden(*args):
        raise AssertionError("the input gradient was computed")

    monkeypatch.setattr(conv_module, "_input_gradient", forbidden)
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s) for s in [(3, 1, 9, 8), (2, 1, 3, 4), 2])
    xt, wt, bt = tg64(x, requires_grad=False), tg64(w), tg64(b)
    out = conv2d(xt, wt, bt, padding=(2, 1))
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    assert xt.grad is None
    # the weight gradient the long way: correlate the padded input with the upstream gradient
    xp = np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, out.shape[2:], axis=(2, 3))
    np.testing.assert_allclose(wt.grad.data, np.einsum("ncijyx,nkyx->kcij", windows, upstream))
    np.testing.assert_allclose(bt.grad.data, upstream.sum(axis=(0, 2, 3)))


def test_conv2d_weight_without_grad_still_gives_bias_and_input_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s) for s in [(2, 2, 6, 5), (3, 2, 2, 3), 3])
    xt, wt, bt = tg64(x), tg64(w, requires_grad=False), tg64(b)
    out = conv2d(xt, wt, bt, padding=1)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    assert wt.grad is None
    tx, tb = torch.tensor(x, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch.nn.functional.conv2d(tx, torch.tensor(w), tb, padding=1).backward(torch.tensor(upstream))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(bt.grad.data, tb.grad.numpy(), rtol=1e-10)


def test_conv2d_non_contiguous_input_and_no_grad():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 8, 7))
    w = rng.standard_normal((2, 3, 3, 3))
    view = tg.Tensor(np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2))
    with tg.no_grad():
        out = conv2d(view, tg.Tensor(w))
    assert not out.requires_grad
    np.testing.assert_allclose(out.data, conv2d(tg.Tensor(x), tg.Tensor(w)).data, rtol=1e-12)
    assert Conv2d.apply(tg.Tensor(x), tg.Tensor(w)).grad_fn is None


X, W = np.zeros((2, 4, 8, 9)), np.zeros((5, 4, 3, 3))


@pytest.mark.parametrize("x, w, kwargs, error, match", [
    (np.zeros((4, 8, 9)), W, {}, ValueError, r"4-D input .*\(4, 8, 9\)"),
    (X, np.zeros((5, 4, 3)), {}, ValueError, r"4-D weight .*\(5, 4, 3\)"),
    (np.zeros((2, 3, 8, 9)), W, {}, ValueError,
     r"input has 3 channels but weight expects 4 .*\(2, 3, 8, 9\).*\(5, 4, 3, 3\)"),
    (X, np.zeros((5, 2, 3, 3)), {"groups": 3}, ValueError, r"groups=3 must divide .*4.*5"),
    (X, np.zeros((5, 2, 3, 3)), {"groups": 2}, ValueError, r"groups=2 must divide .*output.*5"),
    (X, W, {"groups": 0}, ValueError, "groups must be a positive int"),
    (X, W, {"stride": 0}, ValueError, "stride must be positive"),
    (X, W, {"stride": (1, -2)}, ValueError, "stride must be positive"),
    (X, W, {"dilation": (0, 1)}, ValueError, "dilation must be positive"),
    (X, W, {"padding": -1}, ValueError, "padding must be non-negative"),
    (X, W, {"padding": (1, 2, 3)}, TypeError, "padding must be an int or a pair"),
    (X, W, {"stride": 1.5}, TypeError, "stride must be an int or a pair"),
    (X, W, {"padding": "full"}, ValueError, r'"valid" or "same", got .full.'),
    (X, W, {"padding": "same", "stride": 2}, ValueError, '"same" needs stride 1'),
    (X, np.zeros((5, 4, 9, 3)), {}, ValueError,
     r"spans \(9, 3\), larger than the padded input \(8, 9\)"),
    (X, W, {"dilation": 5}, ValueError, r"spans \(11, 11\), larger than the padded input"),
    (X.astype(np.float32), W, {}, TypeError, "one floating dtype"),
    (X.astype(np.int64), W.astype(np.int64), {}, TypeError, "one floating dtype"),
])
def test_conv2d_validation(x, w, kwargs, error, match):
    with pytest.raises(error, match=match):
        conv2d(tg.Tensor(x), tg.Tensor(w), **kwargs)


@pytest.mark.parametrize("bias, match", [
    (np.zeros(4), r"bias must have shape \(5,\).*got \(4,\)"),
    (np.zeros((5, 1)), r"bias must have shape \(5,\).*got \(5, 1\)"),
])
def test_conv2d_bias_validation(bias, match):
    with pytest.raises(ValueError, match=match):
        conv2d(tg.Tensor(X), tg.Tensor(W), tg.Tensor(bias))
