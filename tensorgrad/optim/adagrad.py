"""Adagrad, with PyTorch's update formulas."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_option

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """PyTorch's Adagrad: with g = grad + weight_decay * p and t the step count,
    sum += g^2 (sum starts at initial_accumulator_value), clr = lr / (1 + (t - 1) lr_decay),
    p -= clr * g / (sqrt(sum) + eps)."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        check_option("Adagrad", "lr", lr, lr >= 0)
        check_option("Adagrad", "lr_decay", lr_decay, lr_decay >= 0)
        check_option("Adagrad", "weight_decay", weight_decay, weight_decay >= 0)
        check_option("Adagrad", "initial_accumulator_value", initial_accumulator_value,
                     initial_accumulator_value >= 0)
        check_option("Adagrad", "eps", eps, eps >= 0)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _update(self, param, grad, state, group):
        p = param.data
        step = state["step"] = state.get("step", 0) + 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p
        total = state.get("sum")
        if total is None:
            total = state["sum"] = np.full_like(p, group["initial_accumulator_value"])
        total += grad * grad
        std = np.sqrt(total)
        std += group["eps"]
        p -= (group["lr"] / (1 + (step - 1) * group["lr_decay"])) * (grad / std)
