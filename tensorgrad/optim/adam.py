"""Adam and AdamW (decoupled weight decay), with PyTorch's update formulas."""
from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, check_option, state_buffer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """PyTorch's Adam: with g = grad + weight_decay * p (AdamW: p *= 1 - lr * weight_decay
    instead), m = beta1 * m + (1 - beta1) g, v = beta2 * v + (1 - beta2) g^2 (amsgrad: use
    the running maximum of v), then
    p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)."""

    decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        name = type(self).__name__
        check_option(name, "lr", lr, lr >= 0)
        check_option(name, "eps", eps, eps >= 0)
        check_option(name, "betas", betas, len(betas) == 2 and all(0 <= b < 1 for b in betas))
        check_option(name, "weight_decay", weight_decay, weight_decay >= 0)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _update(self, param, grad, state, group):
        p = param.data
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        step = state["step"] = state.get("step", 0) + 1
        if wd and self.decoupled_weight_decay:
            p *= 1 - lr * wd
        elif wd:
            grad = grad + wd * p
        m, v = state_buffer(state, "exp_avg", p), state_buffer(state, "exp_avg_sq", p)
        m += (1 - beta1) * (grad - m)
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            v_max = state_buffer(state, "max_exp_avg_sq", p)
            v = np.maximum(v_max, v, out=v_max)
        denom = np.sqrt(v)
        denom /= math.sqrt(1 - beta2 ** step)
        denom += group["eps"]
        p -= (lr / (1 - beta1 ** step)) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr * weight_decay
    before the Adam step; weight_decay defaults to 1e-2."""

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
