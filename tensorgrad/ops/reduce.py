"""Reductions over an axis tuple: sum, max, min (ties share the gradient evenly), and
log-softmax along one axis."""
from __future__ import annotations

import numpy as np

from .. import _args
from ..autograd import Function

__all__ = ["Sum", "Max", "Min", "LogSoftmax", "finite_max"]


def finite_max(x: np.ndarray, axis) -> np.ndarray:
    """The max of x over axis (kept, size 1), with 0 where it is not finite (an empty x, or a
    slice all -inf, inf or NaN): the shift that keeps exp(x - shift) from overflowing."""
    shift = x.max(axis=axis, keepdims=True) if x.size else np.zeros((), x.dtype)
    return np.where(np.isfinite(shift), shift, 0).astype(x.dtype, copy=False)


def _expand_back(grad: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    """Re-insert the reduced axes into grad (size 1) so it broadcasts against the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = _args.axes(axis, x.ndim, "sum")
        ctx.meta = (x.shape, axes, keepdims)
        return np.sum(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdims = ctx.meta
        if not keepdims:
            grad = grad.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))
        if isinstance(grad, (np.ndarray, np.generic)):
            return np.broadcast_to(grad, shape)
        return grad.expand(shape)  # a Tensor, under create_graph


class _Extreme(Function):
    """max/min over axes: the gradient is split evenly among the tied extremes."""

    reducer = None

    @classmethod
    def forward(cls, ctx, x, *, axis=None, keepdims=False):
        axes = _args.axes(axis, x.ndim, cls.__name__.lower())
        if x.size == 0:
            raise ValueError(f"{cls.__name__.lower()}: cannot reduce an empty tensor of shape {x.shape}")
        out = cls.reducer(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.meta = (axes, keepdims)
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        axes, keepdims = ctx.meta
        winners = (x == out).astype(grad.dtype)
        winners /= winners.sum(axis=axes, keepdims=True)
        return winners * _expand_back(grad, axes, keepdims)


class Max(_Extreme):
    reducer = staticmethod(np.max)


class Min(_Extreme):
    reducer = staticmethod(np.min)


class LogSoftmax(Function):
    """x - logsumexp(x) along one axis as one node (the composite records six), shifted by the
    maximum so it is finite for any finite x. Its backward, grad - softmax * sum(grad), uses
    only operations ndarrays and Tensors share, so higher derivatives go through it."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, *, axis=-1):
        if not isinstance(axis, (int, np.integer)):
            raise ValueError(f"log_softmax: needs one int axis, got axis {axis!r} for shape "
                             f"{x.shape}")
        axes = _args.axes(axis, x.ndim, "log_softmax")  # () for a 0-d x: its one element
        axis = axes[0] if axes else None
        shifted = x - finite_max(x, axis)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        softmax = np.exp(out) if isinstance(out, (np.ndarray, np.generic)) else out.exp()
        return grad - softmax * grad.sum(axis=ctx.axis, keepdims=True)
