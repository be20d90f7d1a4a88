"""Loss primitives whose PyTorch definition clamps: binary cross-entropy on probabilities."""
from __future__ import annotations

import numpy as np

from ..autograd import Function

__all__ = ["BinaryCrossEntropy"]

# PyTorch's clamps: each log at least -100, the gradient's denominator x (1 - x) at least 1e-12
# (a float32 constant in PyTorch, so float32's nearest value to 1e-12 here too)
LOG_FLOOR, EPS = -100.0, float(np.float32(1e-12))


class BinaryCrossEntropy(Function):
    """-(t log x + (1 - t) log(1 - x)) elementwise for probabilities x in [0, 1], each log
    clamped at -100 as in PyTorch, so x = 0 or 1 gives a finite loss; the gradient
    (x - t) / max(x (1 - x), 1e-12) is PyTorch's, finite at the ends too."""

    @staticmethod
    def forward(ctx, x, target):
        if x.shape != target.shape:
            raise ValueError(f"binary_cross_entropy: target shape {target.shape} differs from "
                             f"input shape {x.shape}")
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), LOG_FLOOR)
            log_1mx = np.maximum(np.log1p(-x), LOG_FLOOR)
        ctx.save_for_backward(x, target)
        ctx.logs = (log_x, log_1mx)
        return -(target * log_x + (1 - target) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        x, target = ctx.saved_tensors
        dx = dt = None
        if ctx.needs_input_grad[0]:
            dx = grad * (x - target) / np.maximum(x * (1 - x), np.asarray(EPS, x.dtype))
        if ctx.needs_input_grad[1]:
            log_x, log_1mx = ctx.logs
            dt = grad * (log_1mx - log_x)
        return dx, dt
