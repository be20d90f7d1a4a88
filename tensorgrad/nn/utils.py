"""Gradient and parameter utilities: clipping, and parameters as one flat vector."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, cat

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0) -> Tensor:
    """Scale the gradients of parameters in place so that their joint norm (all gradients
    seen as one vector) is at most max_norm, as PyTorch does: each gradient is multiplied by
    min(1, max_norm / (total_norm + 1e-6)). Returns the total norm before clipping.
    norm_type may be any p >= 1 or inf."""
    grads = [p.grad.data for p in _as_list(parameters) if p.grad is not None]
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


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient of parameters to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be a non-negative number, got "
                         f"{clip_value}")
    for p in _as_list(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters) -> Tensor:
    """The parameters flattened and joined into one 1-D Tensor (differentiable)."""
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D `vec` into the parameters (their new values, in
    their own dtype), as `parameters_to_vector` laid them out."""
    params = _as_list(parameters)
    data = vec.data if isinstance(vec, Tensor) else vec
    if not isinstance(data, np.ndarray) or data.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got "
                        f"{type(vec).__name__} of shape {getattr(data, 'shape', None)}")
    total = sum(p.data.size for p in params)
    if data.size != total:
        raise ValueError(f"vector_to_parameters: the vector has {data.size} elements, the "
                         f"parameters {total}")
    offset = 0
    for p in params:
        p.data = data[offset:offset + p.data.size].reshape(p.shape).astype(p.dtype)
        offset += p.data.size


def _as_list(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)
