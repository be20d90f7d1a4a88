"""Loss layers: thin modules over the functional losses, with PyTorch's constructors."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss", "L1Loss",
           "SmoothL1Loss", "HuberLoss", "BCELoss", "KLDivLoss"]


def _no_legacy(name: str, size_average, reduce) -> None:
    """PyTorch's deprecated size_average= and reduce= are refused (use reduction=)."""
    if size_average is not None or reduce is not None:
        raise ValueError(f"{name}: size_average and reduce are deprecated in PyTorch and not "
                         "supported; use reduction='mean', 'sum' or 'none'")


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        _no_legacy(type(self).__name__, size_average, reduce)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """A loss with an optional per-class weight, kept as a buffer (as PyTorch does)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """F.cross_entropy(logits, target) with integer class ids, an optional per-class weight,
    ignore_index and label smoothing."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, logits, target):
        return F.cross_entropy(logits, target, self.reduction, self.label_smoothing,
                               weight=self.weight, ignore_index=self.ignore_index)


class NLLLoss(_WeightedLoss):
    """F.nll_loss(log_probs, target) with an optional per-class weight and ignore_index."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, log_probs, target):
        return F.nll_loss(log_probs, target, self.reduction, weight=self.weight,
                          ignore_index=self.ignore_index)


class MSELoss(_Loss):
    def forward(self, x, target):
        return F.mse_loss(x, target, self.reduction)


class L1Loss(_Loss):
    def forward(self, x, target):
        return F.l1_loss(x, target, self.reduction)


class SmoothL1Loss(_Loss):
    """F.smooth_l1_loss: quadratic below beta, linear above."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, x, target):
        return F.smooth_l1_loss(x, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """F.huber_loss: quadratic below delta, linear (slope delta) above."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, x, target):
        return F.huber_loss(x, target, self.reduction, self.delta)


class BCEWithLogitsLoss(_Loss):
    def forward(self, logits, target):
        return F.binary_cross_entropy_with_logits(logits, target, self.reduction)


class BCELoss(_WeightedLoss):
    """F.binary_cross_entropy on probabilities, with an optional weight."""

    def forward(self, x, target):
        return F.binary_cross_entropy(x, target, self.weight, self.reduction)


class KLDivLoss(_Loss):
    """F.kl_div(log_probs, target); reduction may also be "batchmean"."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, log_probs, target):
        return F.kl_div(log_probs, target, self.reduction, self.log_target)
