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


from test_nn import check_against_torch  # noqa: E402  (the layer-vs-PyTorch harness)

# (ours, theirs, input shape), each shape asymmetric
LAYERS = {
    "gelu": (lambda: nn.GELU(), lambda: tnn.GELU(), (3, 4, 5)),
    "gelu_tanh": (lambda: nn.GELU("tanh"), lambda: tnn.GELU("tanh"), (3, 4, 5)),
    "silu": (lambda: nn.SiLU(inplace=True), lambda: tnn.SiLU(), (3, 7)),
    "elu": (lambda: nn.ELU(alpha=0.7), lambda: tnn.ELU(alpha=0.7), (3, 7)),
    "relu_inplace": (lambda: nn.ReLU(inplace=True), lambda: tnn.ReLU(), (4, 5)),
    "leaky_relu_inplace": (lambda: nn.LeakyReLU(0.2, inplace=True), lambda: tnn.LeakyReLU(0.2),
                           (4, 5)),
    "softmax": (lambda: nn.Softmax(dim=1), lambda: tnn.Softmax(dim=1), (3, 4, 5)),
    "log_softmax": (lambda: nn.LogSoftmax(dim=-1), lambda: tnn.LogSoftmax(dim=-1), (3, 4, 5)),
    "layer_norm": (lambda: nn.LayerNorm((4, 5)), lambda: tnn.LayerNorm((4, 5)), (3, 4, 5)),
    "layer_norm_int_no_bias": (lambda: nn.LayerNorm(5, bias=False, eps=1e-3),
                               lambda: tnn.LayerNorm(5, bias=False, eps=1e-3), (2, 3, 5)),
    "layer_norm_no_affine": (lambda: nn.LayerNorm(6, elementwise_affine=False),
                             lambda: tnn.LayerNorm(6, elementwise_affine=False), (4, 6)),
    "group_norm": (lambda: nn.GroupNorm(2, 6), lambda: tnn.GroupNorm(2, 6), (3, 6, 4, 5)),
    "group_norm_3d": (lambda: nn.GroupNorm(3, 6, affine=False),
                      lambda: tnn.GroupNorm(3, 6, affine=False), (2, 6, 7)),
    "upsample_nearest": (lambda: nn.Upsample(scale_factor=2), lambda: tnn.Upsample(
        scale_factor=2), (2, 3, 4, 5)),
    "upsample_bilinear": (lambda: nn.Upsample(size=(7, 3), mode="bilinear"),
                          lambda: tnn.Upsample(size=(7, 3), mode="bilinear"), (2, 3, 4, 5)),
    "upsample_bilinear_corners": (
        lambda: nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True),
        lambda: tnn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True),
        (2, 3, 4, 5)),
    "identity_args": (lambda: nn.Identity(3, key="x"), lambda: tnn.Identity(3, key="x"), (2, 3)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_torch(name):
    ours, theirs, shape = LAYERS[name]
    check_against_torch(ours(), theirs(), shape, steps=2)
    check_against_torch(ours(), theirs(), shape, training=False)


@pytest.mark.parametrize("name, fn, torch_fn", [
    ("gelu", F.gelu, TF.gelu),
    ("gelu_tanh", lambda x: F.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    ("silu", F.silu, TF.silu),
    ("elu", lambda x: F.elu(x, 1.3), lambda x: TF.elu(x, 1.3)),
    ("normalize", F.normalize, TF.normalize),
    ("normalize_p1_dim0", lambda x: F.normalize(x, 1, 0), lambda x: TF.normalize(x, 1.0, 0)),
    ("layer_norm", lambda x: F.layer_norm(x, (4,)), lambda x: TF.layer_norm(x, (4,))),
    ("group_norm", lambda x: F.group_norm(x.reshape(2, 6, 1), 3),
     lambda x: TF.group_norm(x.reshape(2, 6, 1), 3)),
])
def test_functional_matches_torch_and_gradcheck(name, fn, torch_fn):
    x = RNG.standard_normal((3, 4)) * 2
    assert_matches_torch(fn, torch_fn, [x], rtol=1e-10)
    gradcheck(fn, tg64(x))


def test_gelu_is_exact_far_out_and_float32_stays_float32():
    """erf is good to 2e-15 absolute, so GELU to |x| * 1e-15 (in the far negative tail,
    where GELU itself is below 1e-14, that is all the accuracy there is)."""
    x = np.array([-40.0, -8.0, -5.5, -0.3, 0.0, 1e-8, 2.49, 6.1, 40.0])
    assert_matches_torch(F.gelu, TF.gelu, [x], rtol=1e-13, atol=1e-13)
    y = F.gelu(tg.randn(3, 2, requires_grad=True))
    assert y.dtype == np.float32


def test_normalize_of_a_zero_vector_matches_torch():
    """Zero stays zero; the gradient is 1 / eps, as PyTorch's (no NaN from the norm's)."""
    x = np.zeros((2, 3))
    x[1] = [0.5, -1.0, 2.0]
    assert_matches_torch(F.normalize, TF.normalize, [x], rtol=1e-12)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(1, 2), (2, 0, 1, 3), (1, 1, 0, 2, 1, 0)])
def test_pad_matches_torch(mode, pad):
    """(N, C) plus one spatial axis per padded one, as PyTorch's non-constant modes want."""
    x = RNG.standard_normal((2, 3, 4, 5, 6)[:len(pad) // 2 + 2])
    kw = dict(value=0.5) if mode == "constant" else {}
    assert_matches_torch(lambda a: F.pad(a, pad, mode, **kw),
                         lambda a: TF.pad(a, pad, mode, **kw), [x], rtol=1e-12)


def test_pad_refuses_reflect_padding_as_large_as_the_axis():
    with pytest.raises(ValueError, match=r"pad: reflect padding \(4, 0\) of axis 3 must be at "
                                         r"most 3"):
        F.pad(tg.ones(1, 1, 2, 4), (4, 0), "reflect")


@pytest.mark.parametrize("kw", [dict(size=(7, 3)), dict(size=9), dict(scale_factor=1.7),
                                dict(scale_factor=(2, 0.5))])
@pytest.mark.parametrize("mode, align", [("nearest", None), ("bilinear", False),
                                         ("bilinear", True)])
def test_interpolate_matches_torch(kw, mode, align):
    x = RNG.standard_normal((2, 3, 4, 5))
    assert_matches_torch(lambda a: F.interpolate(a, mode=mode, align_corners=align, **kw),
                         lambda a: TF.interpolate(a, mode=mode, align_corners=align, **kw),
                         [x], rtol=1e-12)


def test_embedding_matches_torch_with_padding_idx():
    ours = nn.Embedding(6, 4, padding_idx=2).to("float64")
    assert (ours.weight.data[2] == 0).all()
    theirs = tnn.Embedding(6, 4, padding_idx=2).double()
    theirs.load_state_dict({"weight": torch.tensor(ours.weight.data)})
    ids = np.array([[0, 2, 5], [2, 1, 1]])
    upstream = RNG.standard_normal((2, 3, 4))
    out = ours(tg.tensor(ids))
    out.backward(upstream)
    expected = theirs(torch.tensor(ids))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-12)
    assert (ours.weight.grad.data[2] == 0).all()


def test_embedding_max_norm_renormalises_the_rows_used_like_torch():
    weight = RNG.standard_normal((5, 3)) * 3
    ours, theirs = tg64(weight), torch.tensor(weight, requires_grad=True)
    ids = np.array([0, 3, 3])
    out = F.embedding(ids, ours, max_norm=1.5)
    expected = TF.embedding(torch.tensor(ids), theirs, max_norm=1.5)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
    assert (np.linalg.norm(ours.data[[0, 3]], axis=1) <= 1.5 + 1e-9).all()


def test_embedding_refuses_out_of_range_and_float_ids():
    weight = tg.randn(4, 2)
    with pytest.raises(IndexError, match="embedding: id 4 is out of range for 4 embeddings"):
        F.embedding(np.array([0, 4]), weight)
    with pytest.raises(TypeError, match="embedding: ids must be integers"):
        F.embedding(np.array([0.0]), weight)


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    tg.manual_seed(0)
    layer = nn.Dropout2d(0.5, inplace=True)
    x = tg64(np.ones((8, 6, 3, 4)))
    out = layer(x)
    channels = out.data.reshape(8, 6, -1)
    assert set(np.unique(channels)) == {0.0, 2.0}
    assert (channels.min(axis=2) == channels.max(axis=2)).all()  # a channel is all or nothing
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad.data, out.data)
    layer.eval()
    assert layer(x) is x
    assert nn.Dropout(0.3, inplace=True).p == 0.3


def test_module_dict_registers_its_modules_in_order():
    layers = nn.ModuleDict({"conv": nn.Conv2d(1, 2, 3), "act": nn.ReLU()})
    layers["fc"] = nn.Linear(4, 2)
    assert list(layers) == ["conv", "act", "fc"] and len(layers) == 3 and "fc" in layers
    assert [name for name, _ in layers.named_parameters()] == [
        "conv.weight", "conv.bias", "fc.weight", "fc.bias"]
    theirs = tnn.ModuleDict({"conv": tnn.Conv2d(1, 2, 3), "act": tnn.ReLU(),
                             "fc": tnn.Linear(4, 2)})
    assert list(layers.state_dict()) == list(theirs.state_dict())
    del layers["conv"]
    assert list(layers.keys()) == ["act", "fc"]


def test_softmax_without_dim_uses_torchs_legacy_axis_with_a_warning():
    x = RNG.standard_normal((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        out = nn.Softmax()(tg64(x))
    with pytest.warns(UserWarning):
        expected = tnn.Softmax()(torch.tensor(x))
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-12)


CONV_TRANSPOSE_CONFIGS = [  # (x shape, C_out, groups, kernel, stride, padding, out pad, dilation)
    ((2, 4, 5, 6), 6, 2, (3, 2), (2, 1), (1, 0), (1, 0), (1, 2)),
    ((3, 3, 4, 4), 2, 1, (3, 3), 1, 0, 0, 1),
    ((2, 2, 3, 5), 4, 2, (2, 3), (3, 2), (1, 1), (2, 1), 1),
    ((1, 2, 3, 3), 2, 1, (1, 1), 2, 0, 1, 1),
    ((2, 6, 4, 3), 3, 3, (3, 3), 1, (1, 2), 0, (2, 1)),
    ((2, 3, 6, 7), 5, 1, (4, 4), 2, 1, 0, 1),  # a DCGAN-style 2x upsampling
]


@pytest.mark.parametrize("config", CONV_TRANSPOSE_CONFIGS)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_matches_torch(config, bias):
    shape, cout, groups, kernel, stride, padding, extra, dilation = config
    x = RNG.standard_normal(shape)
    arrays = [x, RNG.standard_normal((shape[1], cout // groups, *kernel))]
    arrays += [RNG.standard_normal(cout)] if bias else []
    kw = dict(stride=stride, padding=padding, output_padding=extra, groups=groups,
              dilation=dilation)
    assert_matches_torch(lambda *a: F.conv_transpose2d(*a, **kw),
                         lambda *a: TF.conv_transpose2d(*a, **kw), arrays, rtol=1e-10)


def test_conv_transpose2d_gradcheck_and_weight_gradient_alone():
    x, w = RNG.standard_normal((2, 2, 3, 4)), RNG.standard_normal((2, 3, 3, 2))
    fn = lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=1, output_padding=1)  # noqa
    gradcheck(fn, tg64(x), tg64(w))
    weight = tg64(w)
    fn(tg64(x, requires_grad=False), weight).backward(np.ones((2, 3, 6, 7)))
    theirs = torch.tensor(w, requires_grad=True)
    TF.conv_transpose2d(torch.tensor(x), theirs, stride=2, padding=1, output_padding=1).sum(
    ).backward()
    np.testing.assert_allclose(weight.grad.data, theirs.grad.numpy(), rtol=1e-10)


def test_conv_transpose2d_layer_matches_torch_and_inverts_conv2d_shapes():
    tg.manual_seed(0)
    ours = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    theirs = tnn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert repr(ours) == repr(theirs)
    check_against_torch(ours, theirs, (2, 4, 5, 3), steps=2)
    down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
    up = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1)
    x = tg.randn(1, 3, 9, 10)
    assert up(down(x), output_size=x.shape).shape == x.shape


def test_conv_transpose2d_errors_name_the_op():
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding \(2, 2\) must be "
                                         r"smaller than either stride \(2, 2\) or dilation"):
        F.conv_transpose2d(tg.ones(1, 2, 3, 3), tg.ones(2, 1, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"conv_transpose2d: input has 3 channels but weight "
                                         r"expects 2"):
        F.conv_transpose2d(tg.ones(1, 3, 3, 3), tg.ones(2, 1, 3, 3))
    with pytest.raises(ValueError, match="conv_transpose2d: the kernel must not be empty"):
        F.conv_transpose2d(tg.ones(1, 2, 3, 3), tg.ones(2, 1, 0, 3))


POOL_CONFIGS = [  # (input shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 7, 9), 3, 2, 1, 1, True),
    ((2, 3, 7, 9), (3, 2), (2, 3), (1, 1), (2, 1), False),
    ((2, 3, 8, 8), 2, 2, 0, 1, True),
    ((1, 2, 5, 6), 3, 2, 1, 2, True),
    ((2, 2, 6, 7), 2, None, 0, 1, True),
]


def _distinct(shape):
    """Values 0.01 apart in a random order: no ties inside a window."""
    return RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.01


@pytest.mark.parametrize("config", POOL_CONFIGS)
def test_max_pool2d_options_match_torch_with_indices(config):
    shape, kernel, stride, padding, dilation, ceil_mode = config
    x = _distinct(shape)
    args = (kernel, stride, padding, dilation, ceil_mode)
    assert_matches_torch(lambda a: F.max_pool2d(a, *args), lambda a: TF.max_pool2d(a, *args),
                         [x], rtol=1e-12)
    _, indices = F.max_pool2d(tg64(x), *args, return_indices=True)
    _, expected = TF.max_pool2d(torch.tensor(x), *args, return_indices=True)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices.data, expected.numpy())


@pytest.mark.parametrize("config", [c for c in POOL_CONFIGS if c[4] == 1])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_options_match_torch(config, count_include_pad):
    shape, kernel, stride, padding, _, ceil_mode = config
    x = RNG.standard_normal(shape)
    args = (kernel, stride, padding, ceil_mode, count_include_pad)
    assert_matches_torch(lambda a: F.avg_pool2d(a, *args), lambda a: TF.avg_pool2d(a, *args),
                         [x], rtol=1e-12)
    gradcheck(lambda a: F.avg_pool2d(a, *args), tg64(x))


def test_pool_layers_with_options_match_torch():
    x = _distinct((2, 3, 7, 8))
    ours = nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True, return_indices=True)
    theirs = tnn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True, return_indices=True)
    (out, idx), (expected, expected_idx) = ours(tg64(x)), theirs(torch.tensor(x))
    np.testing.assert_array_equal(out.data, expected.numpy())
    np.testing.assert_array_equal(idx.data, expected_idx.numpy())
    check_against_torch(nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                        tnn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                        (2, 3, 7, 8))
    check_against_torch(nn.AvgPool2d(2, divisor_override=3), tnn.AvgPool2d(2, divisor_override=3),
                        (2, 3, 6, 5))


def test_max_pool2d_with_ties_sends_the_gradient_to_the_first_maximum_like_torch():
    x = np.ones((1, 1, 5, 5))
    assert_matches_torch(lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True),
                         lambda a: TF.max_pool2d(a, 3, 2, 1, ceil_mode=True), [x])
