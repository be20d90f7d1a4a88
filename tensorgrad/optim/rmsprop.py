"""RMSprop, with PyTorch's update formulas."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_option, state_buffer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """PyTorch's RMSprop: with g = grad + weight_decay * p, s = alpha * s + (1 - alpha) g^2,
    avg = sqrt(s) + eps (centered: sqrt(s - a^2) + eps with a = alpha * a + (1 - alpha) g);
    then p -= lr * g / avg, or with momentum buf = momentum * buf + g / avg, p -= lr * buf."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        check_option("RMSprop", "lr", lr, lr >= 0)
        check_option("RMSprop", "alpha", alpha, 0 <= alpha <= 1)
        check_option("RMSprop", "eps", eps, eps >= 0)
        check_option("RMSprop", "weight_decay", weight_decay, weight_decay >= 0)
        check_option("RMSprop", "momentum", momentum, momentum >= 0)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _update(self, param, grad, state, group):
        p = param.data
        alpha, momentum = group["alpha"], group["momentum"]
        state["step"] = state.get("step", 0) + 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p
        square_avg = state_buffer(state, "square_avg", p)
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state_buffer(state, "grad_avg", p)
            grad_avg += (1 - alpha) * (grad - grad_avg)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state_buffer(state, "momentum_buffer", p)
            buf *= momentum
            buf += grad / avg
            p -= group["lr"] * buf
        else:
            p -= group["lr"] * (grad / avg)
