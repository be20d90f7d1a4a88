"""Adadelta, with PyTorch's update formulas."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_option, state_buffer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """PyTorch's Adadelta (Zeiler 2012): with g = grad + weight_decay * p,
    v = rho v + (1 - rho) g^2, delta = sqrt(u + eps) / sqrt(v + eps) * g,
    u = rho u + (1 - rho) delta^2, p -= lr * delta."""

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        check_option("Adadelta", "lr", lr, lr >= 0)
        check_option("Adadelta", "rho", rho, 0 <= rho <= 1)
        check_option("Adadelta", "eps", eps, eps >= 0)
        check_option("Adadelta", "weight_decay", weight_decay, weight_decay >= 0)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _update(self, param, grad, state, group):
        p = param.data
        rho, eps = group["rho"], group["eps"]
        state["step"] = state.get("step", 0) + 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p
        square_avg = state_buffer(state, "square_avg", p)
        acc_delta = state_buffer(state, "acc_delta", p)
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = np.sqrt(acc_delta + eps)
        delta /= np.sqrt(square_avg + eps)
        delta *= grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        p -= group["lr"] * delta
