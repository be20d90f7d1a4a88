"""Losses against PyTorch in float64 (forward and backward with random upstream gradients,
every reduction): cross_entropy / nll_loss with weight= and ignore_index=, L1, smooth L1,
Huber, BCE on probabilities, KL divergence; their nn modules; -inf logits."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.functional as F
from helpers import assert_matches_torch, tg64
from tensorgrad import nn
from tensorgrad.testing import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_with_weight_and_ignore_index_matches_torch(reduction, smoothing,
                                                                  weighted):
    logits = RNG.standard_normal((6, 4))
    target = np.array([3, -1, 0, 2, -1, 1])  # two rows ignored
    weight = RNG.uniform(0.5, 2.0, 4) if weighted else None
    kw = dict(weight=weight, ignore_index=-1)
    fn = lambda x: F.cross_entropy(x, target, reduction, smoothing, **kw)  # noqa: E731
    tw = None if weight is None else torch.tensor(weight)
    assert_matches_torch(fn, lambda x: TF.cross_entropy(
        x, torch.tensor(target), weight=tw, ignore_index=-1, reduction=reduction,
        label_smoothing=smoothing), [logits], rtol=1e-10)
    gradcheck(fn, tg64(logits))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_with_weight_and_ignore_index_matches_torch(reduction):
    log_probs = RNG.standard_normal((5, 3))
    target = np.array([2, 0, 7, 1, 2])  # 7 is ignore_index, outside the classes
    weight = np.array([0.3, 1.5, 2.0])
    fn = lambda x: F.nll_loss(x, target, reduction, weight=weight, ignore_index=7)  # noqa: E731
    assert_matches_torch(fn, lambda x: TF.nll_loss(
        x, torch.tensor(target), weight=torch.tensor(weight), ignore_index=7,
        reduction=reduction), [log_probs], rtol=1e-10)


@pytest.mark.parametrize("fn, torch_fn", [(F.cross_entropy, TF.cross_entropy),
                                          (lambda x, t: F.nll_loss(x.log_softmax(1), t),
                                           lambda x, t: TF.nll_loss(x.log_softmax(1), t))])
def test_minus_infinity_in_a_non_target_logit_gives_torch_finite_loss(fn, torch_fn):
    """Selection, not a one-hot product: -inf * 0 cannot appear (issue 17, item 1)."""
    logits = np.array([[0.0, -np.inf, 1.0], [2.0, 0.5, -np.inf]])
    x = tg64(logits)
    loss = fn(x, np.array([0, 1]))
    loss.backward()
    t = torch.tensor(logits, requires_grad=True)
    expected = torch_fn(t, torch.tensor([0, 1]))
    expected.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_an_ignored_row_full_of_minus_infinity_stays_out_of_the_loss():
    logits = np.array([[-np.inf, -np.inf, 0.0], [1.0, 2.0, 3.0]])
    for smoothing in (0.0, 0.1):
        x = tg64(logits)
        loss = F.cross_entropy(x, np.array([0, 2]), label_smoothing=smoothing, ignore_index=0)
        loss.backward()
        expected = TF.cross_entropy(torch.tensor(logits), torch.tensor([0, 2]), ignore_index=0,
                                    label_smoothing=smoothing)
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
        assert np.isfinite(x.grad.data).all() and (x.grad.data[0] == 0).all()


def test_every_row_ignored_gives_nan_mean_like_torch_and_zero_sum():
    logits, target = tg64(RNG.standard_normal((2, 3))), np.array([-100, -100])
    assert np.isnan(F.cross_entropy(logits, target).item())
    assert np.isnan(TF.cross_entropy(torch.zeros(2, 3), torch.tensor(target)).item())
    assert F.cross_entropy(logits, target, "sum").item() == 0.0


def test_class_weight_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(3,\) for 3 "
                                         r"classes, got \(2,\)"):
        F.cross_entropy(tg.randn(2, 3), [0, 1], weight=np.ones(2))


def test_cross_entropy_stays_twice_differentiable_with_ignored_rows():
    rng = np.random.default_rng(4)
    x, w = tg64(rng.standard_normal((4, 3))), tg64(rng.standard_normal((5, 3)))
    gradcheck(lambda a, c: F.cross_entropy(F.linear(a, c), [0, -100, 4, 1], "none", 0.1).sum(),
              x, w, second_order=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, ours, theirs", [
    ("l1", F.l1_loss, TF.l1_loss),
    ("smooth_l1", lambda x, t, r: F.smooth_l1_loss(x, t, r, beta=0.7),
     lambda x, t, reduction: TF.smooth_l1_loss(x, t, reduction=reduction, beta=0.7)),
    ("smooth_l1_beta0", lambda x, t, r: F.smooth_l1_loss(x, t, r, beta=0.0),
     lambda x, t, reduction: TF.smooth_l1_loss(x, t, reduction=reduction, beta=0.0)),
    ("huber", lambda x, t, r: F.huber_loss(x, t, r, delta=1.3),
     lambda x, t, reduction: TF.huber_loss(x, t, reduction=reduction, delta=1.3)),
])
def test_regression_losses_match_torch(name, ours, theirs, reduction):
    x, target = RNG.standard_normal((3, 5)) * 2, RNG.standard_normal((3, 5))
    assert_matches_torch(lambda a, b: ours(a, b, reduction),
                         lambda a, b: theirs(a, b, reduction=reduction), [x, target], rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch_with_weight(reduction):
    x, target = RNG.uniform(0.05, 0.95, (4, 3)), RNG.uniform(0, 1, (4, 3))
    weight = RNG.uniform(0.5, 2, (3,))
    assert_matches_torch(lambda a, b: F.binary_cross_entropy(a, b, weight, reduction),
                         lambda a, b: TF.binary_cross_entropy(a, b, torch.tensor(weight),
                                                              reduction=reduction),
                         [x, target], rtol=1e-10)


def test_binary_cross_entropy_clamps_like_torch_at_0_and_1():
    """Loss and input gradient as PyTorch's at probabilities 0 and 1 (finite). The target's
    gradient there is the derivative of the clamped loss (+-100), where PyTorch's is inf."""
    probs, target = np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    x, upstream = tg64(probs), RNG.standard_normal(5)
    loss = F.binary_cross_entropy(x, target, reduction="none")
    loss.backward(upstream)
    t = torch.tensor(probs, requires_grad=True)
    expected = TF.binary_cross_entropy(t, torch.tensor(target), reduction="none")
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(loss.data, expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12)
    target_leaf = tg64(target)
    F.binary_cross_entropy(tg64(probs), target_leaf, reduction="sum").backward()
    np.testing.assert_allclose(target_leaf.grad.data, [100, -100, 100, -100, 0], atol=1e-12)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: every input element must be a "
                                         r"probability in \[0, 1\], got values from -0.5"):
        F.binary_cross_entropy(tg.tensor([-0.5, 0.5]), [0.0, 1.0])


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
def test_kl_div_matches_torch(reduction, log_target):
    log_probs = np.log(RNG.dirichlet(np.ones(5), size=4))
    target = RNG.dirichlet(np.ones(5), size=4)
    target[0, 2] = 0.0  # a zero probability contributes 0
    if log_target:
        target = np.log(target + 0.01)
    a, b, upstream = tg64(log_probs), tg64(target), RNG.standard_normal((4, 5))
    out = F.kl_div(a, b, reduction, log_target)
    out.backward(upstream if reduction == "none" else upstream[0, 0])
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (log_probs, target))
    expected = TF.kl_div(ta, tb, reduction=reduction, log_target=log_target)
    expected.backward(torch.tensor(upstream if reduction == "none" else upstream[0, 0]))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-10, atol=1e-15)
    # the target's gradient where t = 0 is 0 here, NaN in PyTorch (log 0); equal elsewhere
    finite = np.isfinite(tb.grad.numpy())
    assert finite.sum() >= 19
    np.testing.assert_allclose(b.grad.data[finite], tb.grad.numpy()[finite], rtol=1e-10)


@pytest.mark.parametrize("ours, theirs", [
    (lambda: nn.CrossEntropyLoss(tg.tensor([1.0, 2.0, 0.5], dtype="float64"), ignore_index=1,
                                 label_smoothing=0.1),
     lambda: torch.nn.CrossEntropyLoss(torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64),
                                       ignore_index=1, label_smoothing=0.1)),
    (lambda: nn.NLLLoss(reduction="sum", ignore_index=0), lambda: torch.nn.NLLLoss(
        reduction="sum", ignore_index=0)),
])
def test_class_loss_modules_match_torch(ours, theirs):
    logits, target = RNG.standard_normal((5, 3)), np.array([0, 1, 2, 2, 1])
    a = tg64(logits)
    loss = ours()(a, target)
    loss.backward()
    b = torch.tensor(logits, requires_grad=True)
    expected = theirs()(b, torch.tensor(target))
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-10)
    np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("ours, theirs, probs", [
    (nn.L1Loss(), torch.nn.L1Loss(), False),
    (nn.SmoothL1Loss(beta=0.5), torch.nn.SmoothL1Loss(beta=0.5), False),
    (nn.HuberLoss(delta=2.0, reduction="sum"), torch.nn.HuberLoss(delta=2.0, reduction="sum"),
     False),
    (nn.BCELoss(), torch.nn.BCELoss(), True),
    (nn.KLDivLoss(reduction="batchmean"), torch.nn.KLDivLoss(reduction="batchmean"), True),
])
def test_elementwise_loss_modules_match_torch(ours, theirs, probs):
    x = RNG.uniform(0.1, 0.9, (4, 3)) if probs else RNG.standard_normal((4, 3))
    target = RNG.uniform(0, 1, (4, 3))
    assert_matches_torch(ours, theirs, [x, target], rtol=1e-10)


def test_legacy_size_average_is_refused():
    with pytest.raises(ValueError, match="CrossEntropyLoss: size_average and reduce are "
                                         "deprecated"):
        nn.CrossEntropyLoss(size_average=True)
