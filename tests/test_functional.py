"""tensorgrad.functional: gradcheck of the composites, PyTorch parity in float64, numerics
(stability, conventions at kinks), tape size, and every validation error."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tensorgrad as tg
import tensorgrad.functional as F
from helpers import assert_matches_torch, tg64
from tensorgrad.testing import gradcheck
from tensorgrad.testing import strategies as tst

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def tape_size(out) -> int:
    """The number of recorded primitive calls behind out."""
    seen, stack = set(), [out]
    while stack:
        t = stack.pop()
        if t._ctx is None or id(t) in seen:
            continue
        seen.add(id(t))
        stack.extend(i for i in t._ctx.inputs if isinstance(i, tg.Tensor))
    return len(seen)


def away_from_zero(shape, rng, low=0.1, high=2.0):
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


# ---------------------------------------------------------------------------- activations

ACTIVATIONS = {
    "relu": (F.relu, TF.relu),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "softmax_last": (F.softmax, lambda x: TF.softmax(x, dim=-1)),
    "softmax_axis0": (lambda x: F.softmax(x, axis=0), lambda x: TF.softmax(x, dim=0)),
    "log_softmax_last": (F.log_softmax, lambda x: TF.log_softmax(x, dim=-1)),
    "log_softmax_axis1": (lambda x: F.log_softmax(x, axis=1), lambda x: TF.log_softmax(x, dim=1)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradcheck_and_torch(name):
    fn, torch_fn = ACTIVATIONS[name]
    x = away_from_zero((3, 4, 5), np.random.default_rng(1))
    gradcheck(fn, tg64(x))
    assert_matches_torch(fn, torch_fn, [x])


def test_leaky_relu_gradient_at_zero_is_the_slope_like_torch():
    x = tg64([0.0, -1.0, 2.0])
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.1, 0.1, 1.0])


def test_log_softmax_is_one_tape_node_and_cross_entropy_three():
    x = tg64(np.random.default_rng(0).standard_normal((4, 3)))
    assert tape_size(F.log_softmax(x)) == 1
    assert tape_size(F.cross_entropy(x, [0, 2, 1, 1])) == 3  # log_softmax, weights, sum


def test_cross_entropy_of_a_linear_layer_is_twice_differentiable():
    """Linear and LogSoftmax have differentiable backward passes: the Hessian of a linear
    classifier's loss is right (second-order gradcheck)."""
    rng = np.random.default_rng(4)
    x, w, b = (tg64(rng.standard_normal(s)) for s in [(4, 3), (5, 3), (5,)])
    assert gradcheck(lambda a, c, d: F.cross_entropy(F.linear(a, c, d), [0, 2, 4, 1],
                                                     label_smoothing=0.1),
                     x, w, b, second_order=True)


def test_log_softmax_with_minus_infinity_matches_torch():
    """A -inf logit has probability 0: log-probability -inf, gradient 0, the rest finite."""
    array = np.array([[-np.inf, 0.5, -1.0], [2.0, -np.inf, -np.inf]])
    upstream = np.array([[0.0, 1.5, -0.5], [1.0, 0.0, 0.0]])
    x = tg64(array)
    out = F.log_softmax(x, axis=1)
    out.backward(upstream)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(array, requires_grad=True)
    tout = TF.log_softmax(tx, dim=1)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, tout.detach().numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())
    assert np.isfinite(x.grad.data).all()


@pytest.mark.parametrize("shape, axis, match", [
    ((2, 3), 2, "log_softmax: axis 2 is out of range for a tensor with 2 dimensions"),
    ((2, 3), (0, 1), r"log_softmax: needs one int axis, got axis \(0, 1\) for shape \(2, 3\)"),
    ((), 1, "log_softmax: axis 1 is out of range for a tensor with 0 dimensions"),
])
def test_log_softmax_rejects_a_bad_axis(shape, axis, match):
    with pytest.raises(ValueError, match=match):
        F.log_softmax(tg.zeros(*shape), axis=axis)


def test_log_softmax_of_a_scalar_is_zero_as_in_torch():
    x = tg64(np.array(2.5))
    out = F.log_softmax(x)
    out.backward(np.array(3.0))
    assert out.shape == () and out.item() == 0.0 and x.grad.item() == 0.0
    torch = pytest.importorskip("torch")
    assert TF.log_softmax(torch.tensor(2.5), dim=-1).item() == 0.0


def test_softmax_is_finite_for_huge_logits():
    x = tg.tensor([[1e30, -1e30, 0.0], [5e4, 5e4, -5e4]], dtype="float32")
    np.testing.assert_allclose(F.softmax(x).data, [[1, 0, 0], [0.5, 0.5, 0]])
    assert np.isfinite(F.log_softmax(x).data[:, :2]).all()


# ---------------------------------------------------------------------------- linear


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5)])
def test_linear_gradcheck_and_torch(bias, shape):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(shape), rng.standard_normal((3, 5))]
    if bias:
        arrays.append(rng.standard_normal(3))
    gradcheck(F.linear, *[tg64(a) for a in arrays])
    assert_matches_torch(F.linear, TF.linear, arrays)


def test_linear_is_one_tape_node():
    x, w, b = tg64(np.ones((2, 3))), tg64(np.ones((4, 3))), tg64(np.ones(4))
    assert tape_size(F.linear(x, w, b)) == 1


@pytest.mark.parametrize("bias", [True, False])
def test_linear_second_order_and_1d_input(bias):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(5), rng.standard_normal((3, 5))] + (
        [rng.standard_normal(3)] if bias else [])
    gradcheck(F.linear, *[tg64(a) for a in arrays], second_order=True)
    assert_matches_torch(F.linear, TF.linear, arrays)


def test_linear_mixed_dtypes_promote_and_grads_keep_their_dtype():
    x = tg.tensor(np.ones((2, 3)), dtype="float64", requires_grad=True)
    w = tg.tensor(np.ones((4, 3)), dtype="float32", requires_grad=True)
    b = tg.tensor(np.ones(4), dtype="float32", requires_grad=True)
    out = F.linear(x, w, b)
    assert out.dtype == np.float64
    out.sum().backward()
    assert (x.grad.dtype, w.grad.dtype, b.grad.dtype) == (np.float64, np.float32, np.float32)
    np.testing.assert_array_equal(b.grad.data, [2, 2, 2, 2])


def test_linear_rejects_mismatched_features():
    with pytest.raises(ValueError, match=r"linear: input has 5 features but weight expects 4 "
                                         r"\(input \(2, 5\), weight \(3, 4\)"):
        F.linear(tg.zeros(2, 5), tg.zeros(3, 4))


def test_linear_rejects_a_bias_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(3,\) for 3 output "
                                         r"features, got \(4,\)"):
        F.linear(tg.zeros(2, 5), tg.zeros(3, 5), tg.zeros(4))


def test_flatten():
    x = tg64(np.arange(24.0).reshape(2, 3, 4))
    assert F.flatten(x).shape == (24,)
    assert F.flatten(x, 1).shape == (2, 12)
    assert F.flatten(x, 0, 1).shape == (6, 4)


# ---------------------------------------------------------------------------- dropout


def test_dropout_is_identity_when_not_training_or_p_zero():
    x = tg.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_zeroes_with_probability_p_scales_the_rest_and_is_reproducible():
    x = tg.ones(200, 500, requires_grad=True)
    tg.manual_seed(3)
    y = F.dropout(x, 0.3)
    assert y.dtype == np.float32
    kept = y.data != 0
    assert abs(1 - kept.mean() - 0.3) < 0.005
    np.testing.assert_allclose(y.data[kept], 1 / 0.7, rtol=1e-6)
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad.data, y.data)  # the gradient is the scaled mask
    tg.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.3).data, y.data)


def test_dropout_with_p_one_gives_zeros_and_bad_p_raises():
    x = tg.ones(3, 4, requires_grad=True)
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, 0)
    with pytest.raises(ValueError, match=r"dropout: probability p must be in \[0, 1\], got 1.5"):
        F.dropout(x, 1.5)


# ---------------------------------------------------------------------------- batch_norm


def _bn_inputs(shape, rng):
    c = shape[1]
    return (rng.standard_normal(shape) * 2 + 1, rng.uniform(0.5, 2, c), rng.standard_normal(c))


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 2, 5, 4)])
def test_batch_norm_training_gradcheck(shape):
    x, w, b = _bn_inputs(shape, np.random.default_rng(4))
    gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
              tg64(x), tg64(w), tg64(b))


@given(shape=tst.shapes(min_dims=2, max_dims=4, max_side=4), data=st.data())
def test_batch_norm_training_property(shape, data):
    x = data.draw(tst.arrays(shape, low=-3, high=3))
    axes = (0,) + tuple(range(2, len(shape)))
    assume(x.size > shape[1] and x.var(axis=axes).min() > 0.1)  # away from constant channels
    w = data.draw(tst.arrays((shape[1],), low=0.5, high=2))
    gradcheck(lambda x, w: F.batch_norm(x, None, None, w, None, training=True), tg64(x), tg64(w))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 2, 5, 4)])
def test_batch_norm_matches_torch_including_running_stats(shape, training):
    rng = np.random.default_rng(5)
    x, w, b = _bn_inputs(shape, rng)
    rm, rv = rng.standard_normal(shape[1]), rng.uniform(0.5, 2, shape[1])
    ours_rm, ours_rv = tg64(rm, requires_grad=False), rv.copy()  # a Tensor and an ndarray
    theirs_rm, theirs_rv = torch.tensor(rm), torch.tensor(rv)
    assert_matches_torch(
        lambda x, w, b: F.batch_norm(x, ours_rm, ours_rv, w, b, training, 0.3, 1e-3),
        lambda x, w, b: TF.batch_norm(x, theirs_rm, theirs_rv, w, b, training, 0.3, 1e-3),
        [x, w, b])
    np.testing.assert_allclose(ours_rm.data, theirs_rm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_rv, theirs_rv.numpy(), rtol=1e-12)
    if training:
        assert not np.allclose(ours_rm.data, rm)


def test_batch_norm_without_affine_and_eval_gradcheck():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 2, 4, 5))
    rm, rv = rng.standard_normal(2), rng.uniform(0.5, 2, 2)
    gradcheck(lambda x: F.batch_norm(x, None, None, training=True), tg64(x))
    gradcheck(lambda x: F.batch_norm(x, rm, rv, training=False), tg64(x))
    out = F.batch_norm(tg64(x), None, None, training=True).data
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1 / (1 + 1e-5 / x.var(axis=(0, 2, 3))))


def test_batch_norm_keeps_float32():
    x = tg.randn(4, 3, requires_grad=True)
    w = tg.ones(3, requires_grad=True)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    out = F.batch_norm(x, rm, rv, w, None, training=True)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == rm.dtype == rv.dtype == np.float32


@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("shape", [(7, 3), (5, 3, 4, 2), (2, 4, 3, 5)])
def test_batch_norm_training_gradcheck_all_inputs(shape, affine):
    x, w, b = _bn_inputs(shape, np.random.default_rng(7))
    w = tg64(w) if affine in ("both", "weight") else None
    b = tg64(b) if affine in ("both", "bias") else None
    leaves = [t for t in (w, b) if t is not None]

    def fn(x, *params):
        it = iter(params)
        return F.batch_norm(x, None, None, next(it) if w is not None else None,
                            next(it) if b is not None else None, training=True)
    gradcheck(fn, tg64(x), *leaves)  # a random upstream gradient (random projection)


def test_batch_norm_training_grads_of_a_subset_of_inputs_match_all():
    x, w, b = _bn_inputs((4, 3, 2, 5), np.random.default_rng(8))
    upstream = np.random.default_rng(9).standard_normal(x.shape)
    full = [tg64(a) for a in (x, w, b)]
    F.batch_norm(*full[:1], None, None, *full[1:], training=True).backward(upstream)
    for wanted in range(3):
        leaves = [tg64(a, requires_grad=i == wanted) for i, a in enumerate((x, w, b))]
        F.batch_norm(leaves[0], None, None, *leaves[1:], training=True).backward(upstream)
        for i, t in enumerate(leaves):
            if i == wanted:
                np.testing.assert_allclose(t.grad.data, full[i].grad.data, rtol=1e-12, atol=1e-12)
            else:
                assert t.grad is None


def test_batch_norm_training_is_one_tape_node():
    x, w, b = (tg64(a) for a in _bn_inputs((4, 3, 2, 2), np.random.default_rng(10)))
    rm, rv = np.zeros(3), np.ones(3)
    assert tape_size(F.batch_norm(x, rm, rv, w, b, training=True)) == 1
    assert tape_size(F.batch_norm(x, None, None, training=True)) == 1


def test_batch_norm_running_stats_match_torch_over_several_steps():
    rng = np.random.default_rng(11)
    shape = (6, 3, 4, 5)
    _, w, b = _bn_inputs(shape, rng)
    ours_rm, ours_rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    theirs_rm, theirs_rv = torch.zeros(3), torch.ones(3)
    tw, tb = (tg.tensor(a, dtype="float32", requires_grad=True) for a in (w, b))
    pw, pb = (torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in (w, b))
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        ours = F.batch_norm(tg.tensor(x), ours_rm, ours_rv, tw, tb, True, 0.2, 1e-4)
        theirs = TF.batch_norm(torch.tensor(x), theirs_rm, theirs_rv, pw, pb, True, 0.2, 1e-4)
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-4, atol=1e-5)
        ours.sum().backward()
        theirs.sum().backward()
    np.testing.assert_allclose(ours_rm, theirs_rm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_rv, theirs_rv.numpy(), rtol=1e-5)
    np.testing.assert_allclose(tw.grad.data, pw.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(tb.grad.data, pb.grad.numpy(), rtol=1e-5)
    assert ours_rm.dtype == ours_rv.dtype == np.float32


def test_batch_norm_training_4d_keeps_float32_with_affine():
    x = tg.randn(4, 3, 2, 5, requires_grad=True)
    w, b = tg.ones(3, requires_grad=True), tg.zeros(3, requires_grad=True)
    out = F.batch_norm(x, np.zeros(3, np.float32), np.ones(3, np.float32), w, b, training=True)
    out.backward(np.random.default_rng(12).standard_normal(out.shape).astype(np.float32))
    assert out.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    assert x.grad.shape == x.shape


def test_batch_norm_float32_variance_is_accurate_for_a_large_mean():
    # two-pass statistics: E[x^2] - mean^2 in float32 would lose the variance here
    x = (1000 + np.random.default_rng(15).standard_normal((16, 3, 8, 8))).astype(np.float32)
    rv = np.ones(3, np.float32)
    out = F.batch_norm(tg.tensor(x), None, rv, training=True, momentum=1.0)
    ref = F.batch_norm(tg64(x, requires_grad=False), None, None, training=True)
    np.testing.assert_allclose(out.data, ref.data, atol=2e-3)
    np.testing.assert_allclose(rv, x.astype(np.float64).var(axis=(0, 2, 3), ddof=1), rtol=1e-3)


def test_batch_norm_mixed_dtypes_promote_and_grads_keep_their_dtype():
    rng = np.random.default_rng(13)
    x, w, b = _bn_inputs((5, 3, 4), rng)
    upstream = rng.standard_normal(x.shape)
    x32 = tg.tensor(x, dtype="float32", requires_grad=True)
    w64, b64 = tg64(w), tg64(b)
    out = F.batch_norm(x32, None, None, w64, b64, training=True)
    assert out.dtype == np.float64
    out.backward(upstream)
    assert (x32.grad.dtype, w64.grad.dtype, b64.grad.dtype) == (np.float32, np.float64, np.float64)
    ref = [tg64(a) for a in (x.astype(np.float32), w, b)]
    F.batch_norm(ref[0], None, None, *ref[1:], training=True).backward(upstream)
    np.testing.assert_allclose(x32.grad.data, ref[0].grad.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w64.grad.data, ref[1].grad.data, rtol=1e-6)


def test_batch_norm_training_is_once_differentiable_with_a_clear_error():
    x, w, b = (tg64(a) for a in _bn_inputs((4, 3), np.random.default_rng(14)))
    (gx,) = tg.grad((F.batch_norm(x, None, None, w, b, training=True) ** 3).sum(), [x],
                    create_graph=True)
    with pytest.raises(RuntimeError, match="BatchNorm is once-differentiable"):
        gx.sum().backward()


def test_batch_norm_errors():
    x = tg.randn(4, 3, 5)
    with pytest.raises(ValueError, match=r"batch_norm: input has 3 channels but running_mean has "
                                         r"shape \(4,\) \(input \(4, 3, 5\)\)"):
        F.batch_norm(x, np.zeros(4), np.ones(4), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: input has 3 channels but weight"):
        F.batch_norm(x, None, None, tg.ones(2), training=True)
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training, got "
                                         r"input shape \(1, 3\)"):
        F.batch_norm(tg.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="evaluation mode .* needs running_mean and running_var"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"batch_norm: expected input of shape \(N, C\)"):
        F.batch_norm(tg.randn(4), None, None, training=True)


# ---------------------------------------------------------------------------- pooling


def test_pool_and_conv_primitives_are_re_exported():
    from tensorgrad.ops import conv, pool
    assert F.conv2d is conv.conv2d
    # F's pools take PyTorch's extra options; with the defaults they are the primitives
    x = tg.randn(1, 1, 4, 4, requires_grad=True)
    assert F.max_pool2d(x, 2, 1, 1).grad_fn is pool.MaxPool2d
    assert F.avg_pool2d(x, 2, 1, 1).grad_fn is pool.AvgPool2d


@pytest.mark.parametrize("in_hw, out", [((7, 9), 1), ((7, 9), (2, 3)), ((8, 9), (4, 3)),
                                        ((5, 6), (3, 4)), ((7, 9), (None, 4)), ((6, 4), (6, 4))])
def test_adaptive_avg_pool2d_gradcheck_and_torch(in_hw, out):
    x = np.random.default_rng(7).standard_normal((2, 3) + in_hw)
    gradcheck(lambda x: F.adaptive_avg_pool2d(x, out), tg64(x))
    assert_matches_torch(lambda x: F.adaptive_avg_pool2d(x, out),
                         lambda x: TF.adaptive_avg_pool2d(x, out), [x])


def test_adaptive_avg_pool2d_errors_and_dtype():
    assert F.adaptive_avg_pool2d(tg.randn(1, 2, 5, 7), (2, 3)).dtype == np.float32
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expected a 4-D input \(N, C, H, "
                                         r"W\), got shape \(2, 5, 7\)"):
        F.adaptive_avg_pool2d(tg.randn(2, 5, 7), 1)
    with pytest.raises(ValueError, match="output_size must be positive, got \\(0, 2\\)"):
        F.adaptive_avg_pool2d(tg.randn(1, 2, 5, 7), (0, 2))
    with pytest.raises(TypeError, match="output_size must be an int or a pair of ints"):
        F.adaptive_avg_pool2d(tg.randn(1, 2, 5, 7), (1, 2, 3))


# ---------------------------------------------------------------------------- losses


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_gradcheck_and_torch(reduction, smoothing):
    rng = np.random.default_rng(8)
    logits, target = rng.standard_normal((5, 4)) * 3, np.array([0, 3, 1, 3, 2])
    fn = lambda x: F.cross_entropy(x, target, reduction, smoothing)  # noqa: E731
    gradcheck(fn, tg64(logits))
    assert_matches_torch(fn, lambda x: TF.cross_entropy(
        x, torch.tensor(target), reduction=reduction, label_smoothing=smoothing), [logits])


@given(n=st.integers(1, 3), c=st.integers(1, 5), smoothing=st.sampled_from([0.0, 0.1, 1.0]),
       data=st.data())
def test_cross_entropy_property(n, c, smoothing, data):
    logits = data.draw(tst.arrays((n, c), low=-5, high=5))
    target = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    gradcheck(lambda x: F.cross_entropy(x, target, label_smoothing=smoothing), tg64(logits))


def test_cross_entropy_tape_is_small():
    logits = tg64(np.random.default_rng(9).standard_normal((4, 3)))
    assert tape_size(F.cross_entropy(logits, np.array([0, 1, 2, 0]), label_smoothing=0.1)) <= 8


def test_cross_entropy_is_finite_for_huge_logits_and_keeps_float32():
    logits = tg.tensor([[1e30, -1e30, 0.0], [-3e4, 3e4, 1.0]], dtype="float32", requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, 0]), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == logits.grad.dtype == np.float32
    assert np.isfinite(loss.item()) and np.isfinite(logits.grad.data).all()
    expected = TF.cross_entropy(torch.tensor(logits.data), torch.tensor([1, 0]),
                                label_smoothing=0.1)
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)


def test_cross_entropy_accepts_tensor_and_list_targets():
    logits = tg64(np.random.default_rng(10).standard_normal((2, 3)))
    a = F.cross_entropy(logits, tg.tensor([2, 0])).item()
    assert a == F.cross_entropy(logits, [2, 0]).item()


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_class_target_errors(fn):
    name = fn.__name__
    logits = tg.randn(3, 4)
    with pytest.raises(TypeError, match=rf"{name}: target must hold integer class ids, got dtype "
                                        r"float64 \(target shape \(3,\)\)"):
        fn(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=rf"{name}: target shape \(3, 1\) does not match input "
                                         r"shape \(3, 4\): expected \(3,\)"):
        fn(logits, np.zeros((3, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=rf"{name}: target class 4 is out of range for 4 classes"):
        fn(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=rf"{name}: target class -1 is out of range"):
        fn(logits, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match=rf"{name}: expected input of shape \(N, C\), got \(4,\)"):
        fn(tg.randn(4), np.array([0]))
    with pytest.raises(ValueError, match=rf"{name}: reduction must be 'mean', 'sum' or 'none', "
                                         r"got 'avg'"):
        fn(logits, np.array([0, 1, 2]), reduction="avg")


def test_cross_entropy_rejects_bad_label_smoothing():
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got -0.1"):
        F.cross_entropy(tg.randn(2, 3), [0, 1], label_smoothing=-0.1)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_gradcheck_and_torch(reduction):
    rng = np.random.default_rng(11)
    log_probs, target = rng.standard_normal((4, 3)), np.array([2, 0, 1, 2])
    fn = lambda x: F.nll_loss(x, target, reduction)  # noqa: E731
    gradcheck(fn, tg64(log_probs))
    assert_matches_torch(fn, lambda x: TF.nll_loss(x, torch.tensor(target), reduction=reduction),
                         [log_probs])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_gradcheck_and_torch(reduction):
    rng = np.random.default_rng(12)
    x, target = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    fn = lambda x, t: F.mse_loss(x, t, reduction)  # noqa: E731
    gradcheck(fn, tg64(x), tg64(target))
    assert_matches_torch(fn, lambda x, t: TF.mse_loss(x, t, reduction=reduction), [x, target])
    assert F.mse_loss(tg.ones(2), np.array([0.0, 1.0])).dtype == np.float32  # target cast


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_gradcheck_and_torch(reduction):
    rng = np.random.default_rng(13)
    x, target = away_from_zero((3, 4), rng, 0.05, 4), rng.uniform(0, 1, (3, 4))
    fn = lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction)  # noqa: E731
    gradcheck(fn, tg64(x), tg64(target))
    assert_matches_torch(fn, lambda x, t: TF.binary_cross_entropy_with_logits(
        x, t, reduction=reduction), [x, target])


def test_bce_with_logits_at_zero_and_huge_logits():
    x = tg64([0.0, 0.0, 800.0, -800.0])
    target = np.array([0.0, 1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, target, "none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [np.log(2), np.log(2), 800, 800])
    np.testing.assert_allclose(x.grad.data, [0.5, -0.5, 1.0, -1.0])  # sigmoid(x) - t


def test_elementwise_loss_shape_errors():
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(3,\) differs from input "
                                         r"shape \(3, 1\)"):
        F.mse_loss(tg.zeros(3, 1), np.zeros(3))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: target shape"):
        F.binary_cross_entropy_with_logits(tg.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="mse_loss: reduction must be"):
        F.mse_loss(tg.zeros(3), np.zeros(3), reduction="max")


def test_one_hot():
    out = F.one_hot(np.array([[2, 0], [1, 2]]))
    assert out.dtype == np.int64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.data, TF.one_hot(torch.tensor([[2, 0], [1, 2]])).numpy())
    assert F.one_hot(tg.tensor([1]), 4).shape == (1, 4)
    with pytest.raises(ValueError, match="one_hot: target class 3 is out of range for 3 classes"):
        F.one_hot(np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="one_hot: target must hold integer class ids"):
        F.one_hot(np.array([0.5]))
