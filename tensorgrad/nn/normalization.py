"""Batch normalisation layers: BatchNorm1d for (N, C) or (N, C, L), BatchNorm2d for
(N, C, H, W), with PyTorch's parameters (weight, bias) and buffers (running_mean,
running_var, num_batches_tracked)."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor, get_default_dtype
from . import init
from .module import Module, empty_parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    input_dims: tuple = ()
    input_names = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        for name in ("weight", "bias"):
            self.register_parameter(name, empty_parameter((num_features,), dtype) if affine
                                    else None)
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        buffers = dict(running_mean=np.zeros(num_features, dtype),
                       running_var=np.ones(num_features, dtype),
                       num_batches_tracked=np.array(0, dtype=np.int64))
        for name, value in buffers.items():
            self.register_buffer(name, Tensor(value) if track_running_stats else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        if x.ndim not in self.input_dims:
            raise ValueError(f"{type(self).__name__}: expected input of shape "
                             f"{self.input_names}, got shape {x.shape}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.data)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or self.running_mean is None, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs, per channel C."""

    input_dims, input_names = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs, per channel C."""

    input_dims, input_names = (4,), "(N, C, H, W)"
