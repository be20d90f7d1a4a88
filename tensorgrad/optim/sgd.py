"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

from .optimizer import Optimizer, check_option

__all__ = ["SGD"]


class SGD(Optimizer):
    """PyTorch's SGD: with g = grad + weight_decay * p,
    buf = g on the first step, then momentum * buf + (1 - dampening) * g;
    the step direction is g + momentum * buf (nesterov) or buf (momentum > 0) or g;
    p -= lr * direction."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        check_option("SGD", "lr", lr, lr >= 0)
        check_option("SGD", "momentum", momentum, momentum >= 0)
        check_option("SGD", "weight_decay", weight_decay, weight_decay >= 0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum needs momentum > 0 and dampening = 0, got "
                             f"momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, param, grad, state, group):
        p = param.data
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad if group["dampening"] else grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        p -= group["lr"] * grad
