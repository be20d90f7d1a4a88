"""Matrix product with NumPy's matmul semantics (batched, broadcasting batch dimensions, and
1-D operands treated as a row (left) or column (right) vector that is then removed), and the
fully connected layer x @ weight.T + bias as one primitive."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from .elementwise import unbroadcast


class MatMul(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes "
                             f"{a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
                             f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
        try:
            out = np.matmul(a, b)
        except ValueError:
            raise ValueError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not "
                             "broadcast") from None
        ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a      # (..., n, k)
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b      # (..., k, m)
        g2 = grad.reshape(grad.shape + (1,)) if b.ndim == 1 else grad  # restore m, then n
        g2 = g2.reshape(g2.shape[:-1] + (1, g2.shape[-1])) if a.ndim == 1 else g2
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(g2 @ _swap_last_axes(b2), a2.shape, a.dtype).reshape(a.shape)
        if need_b:
            grad_b = unbroadcast(_swap_last_axes(a2) @ g2, b2.shape, b.dtype).reshape(b.shape)
        return grad_a, grad_b


class Linear(Function):
    """x @ weight.T + bias as one tape node (a composite would record three: the transpose,
    the product and the sum); see `linear`."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: input has {x.shape[-1] if x.ndim else 0} features but "
                             f"weight expects {weight.shape[1] if weight.ndim == 2 else '?'} "
                             f"(input {x.shape}, weight {weight.shape}; weight must be "
                             "(out_features, in_features))")
        if bias is not None and bias.shape != weight.shape[:1]:
            raise ValueError(f"linear: bias must have shape ({weight.shape[0]},) for "
                             f"{weight.shape[0]} output features, got {bias.shape}")
        out = np.matmul(x, weight.T)
        if bias is not None:
            out = np.add(out, bias, out=out if out.dtype == np.result_type(out, bias) else None)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight)
            ctx.bias_dtype = None if bias is None else bias.dtype
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        lead = int(np.prod(grad.shape[:-1]))  # every leading axis is a batch axis (not -1:
        rows = grad.reshape(lead, grad.shape[-1])  # Linear(0, k) has size-0 arrays)
        grad_x = unbroadcast(grad @ weight, x.shape, x.dtype) if needs[0] else None
        grad_w = (unbroadcast(_swap_last_axes(rows) @ x.reshape(lead, x.shape[-1]), weight.shape,
                              weight.dtype) if needs[1] else None)
        if len(needs) == 2:
            return grad_x, grad_w
        if not needs[2]:
            return grad_x, grad_w, None
        return grad_x, grad_w, unbroadcast(rows.sum(axis=0), weight.shape[:1], ctx.bias_dtype)


def linear(x, weight, bias=None):
    """x @ weight.T + bias for x of shape (..., in_features), weight (out_features,
    in_features) and bias (out_features,) or None; one tape node."""
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)


def _swap_last_axes(x):
    if isinstance(x, (np.ndarray, np.generic)):
        return np.swapaxes(x, -1, -2)
    return x.transpose(-1, -2)  # a Tensor, under create_graph
