"""Gradient utilities."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0) -> Tensor:
    """Scale the gradients of parameters in place so that their joint norm (all gradients
    seen as one vector) is at most max_norm, as PyTorch does: each gradient is multiplied by
    min(1, max_norm / (total_norm + 1e-6)). Returns the total norm before clipping.
    norm_type may be any p >= 1 or inf."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad.data for p in parameters if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.array(0.0))
    if norm_type == np.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = sum(_sum_of_powers(g, norm_type) for g in grads) ** (1.0 / norm_type)
    coef = min(1.0, max_norm / (total + 1e-6))
    if coef < 1.0:
        for g in grads:
            g *= coef
    return Tensor(np.array(total, dtype=grads[0].dtype))


def _sum_of_powers(g: np.ndarray, p: float) -> float:
    flat = g.reshape(-1)
    return float(np.dot(flat, flat)) if p == 2.0 else float(np.sum(np.abs(flat) ** p))
