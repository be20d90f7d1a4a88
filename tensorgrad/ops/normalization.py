"""Batch normalisation in training mode as one primitive: normalise each channel (axis 1)
with the batch mean and biased variance, then scale by weight and shift by bias. One tape
node instead of the ~15 of the composite; see `tensorgrad.functional.batch_norm`, which also
keeps the running statistics."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from .elementwise import unbroadcast

__all__ = ["BatchNorm"]


class BatchNorm(Function):
    """out = (x - mean) * (invstd * weight) + bias per channel, with mean and the biased
    variance taken over every axis but 1 of x, (N, C) or (N, C, ...); weight and bias (C,) or
    None. If `stats` is a list, forward appends the batch mean and biased variance (each (C,),
    in x's dtype) and the number of values per channel to it, so the caller can update
    running statistics outside the tape. `total`, if given, sums per-channel arrays over a
    group of processes (SyncBatchNorm): the statistics and their gradients are then those of
    the whole batch spread over the group. Once-differentiable (its backward works on
    ndarrays)."""

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, *, eps=1e-5, stats=None, total=None):
        if x.ndim < 2 or any(t is not None and t.shape != x.shape[1:2] for t in (weight, bias)):
            raise ValueError(f"BatchNorm: expected x (N, C) or (N, C, ...) and weight, bias of "
                             f"shape (C,), got {x.shape}, "
                             f"{None if weight is None else weight.shape}, "
                             f"{None if bias is None else bias.shape}")
        n, c = x.shape[0], x.shape[1]
        x3 = x.reshape(n, c, -1)  # channels in the middle of an (N, C, L) view
        count = x3.shape[0] * x3.shape[2]
        sums = np.einsum("ncl->c", x3)
        if total is not None:   # [sums, count] over the group, one call
            both = total(np.append(sums, np.array(count, sums.dtype)))
            sums, count = both[:-1], int(round(float(both[-1])))
        mean = sums / count
        centered = np.subtract(x3, mean[:, None])
        squares = np.einsum("ncl,ncl->c", centered, centered)
        var = (squares if total is None else total(squares)) / count
        invstd = 1.0 / np.sqrt(var + eps)
        if stats is not None:
            stats.extend((mean, var, count))
        scale = invstd if weight is None else weight * invstd
        out = np.multiply(centered, scale[:, None])
        if bias is not None:
            shift = bias[:, None]
            out = np.add(out, shift, out=out if out.dtype == np.result_type(out, shift) else None)
        if ctx.is_recording:
            ctx.save_for_backward(centered, invstd, weight)
            ctx.x_shape, ctx.x_dtype, ctx.count, ctx.total = x.shape, x.dtype, count, total
            ctx.bias_dtype = None if bias is None else bias.dtype
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        centered, invstd, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        need_x = needs[0]
        need_w = len(needs) > 1 and needs[1]
        need_b = len(needs) > 2 and needs[2]
        g = grad.reshape(centered.shape)
        count = ctx.count
        sum_g = np.einsum("ncl->c", g) if need_x or need_b else None
        sum_gc = np.einsum("ncl,ncl->c", g, centered) if need_x or need_w else None
        grad_x = grad_w = grad_b = None
        if need_w:
            grad_w = unbroadcast(sum_gc * invstd, weight.shape, weight.dtype)
        if need_b:
            grad_b = unbroadcast(sum_g, invstd.shape, ctx.bias_dtype)
        if need_x:
            if ctx.total is not None:   # dx needs the whole batch's sums; the weight and
                # bias gradients above stay local (DistributedDataParallel averages them)
                sum_g, sum_gc = np.split(ctx.total(np.concatenate([sum_g, sum_gc])), 2)
            # dx = scale * (g - mean(g) - x_hat * mean(g * x_hat)), x_hat = centered * invstd,
            # in place in one buffer (faster than summing separate products)
            scale = invstd if weight is None else weight * invstd
            dx = np.multiply(centered, (-invstd * invstd * sum_gc / count)[:, None])
            dx += g
            dx -= (sum_g / count)[:, None]
            dx *= scale[:, None]
            grad_x = unbroadcast(dx.reshape(ctx.x_shape), ctx.x_shape, ctx.x_dtype)
        return (grad_x, grad_w, grad_b)[:len(needs)]
