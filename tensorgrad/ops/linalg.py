"""Matrix product with NumPy's matmul semantics: batched, broadcasting batch dimensions, and
1-D operands treated as a row (left) or column (right) vector that is then removed."""
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


def _swap_last_axes(x):
    if isinstance(x, (np.ndarray, np.generic)):
        return np.swapaxes(x, -1, -2)
    return x.transpose(-1, -2)  # a Tensor, under create_graph
