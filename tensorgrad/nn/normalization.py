"""Batch normalisation layers: BatchNorm1d for (N, C) or (N, C, L), BatchNorm2d for
(N, C, H, W), with PyTorch's parameters (weight, bias) and buffers (running_mean,
running_var, num_batches_tracked); SyncBatchNorm, whose batch statistics span every rank
of a distributed run. LayerNorm and GroupNorm normalise each sample on its own (the same in
training and evaluation)."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor, get_default_dtype
from . import init
from .module import Module, empty_parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "SyncBatchNorm", "LayerNorm", "GroupNorm"]


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
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or self.running_mean is None, self._momentum(),
                            self.eps)

    def _momentum(self) -> float:
        """This step's momentum, counting the step in num_batches_tracked when training."""
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.data)
        return momentum

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs, per channel C."""

    input_dims, input_names = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs, per channel C."""

    input_dims, input_names = (4,), "(N, C, H, W)"


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose training statistics (mean and variance per channel) are
    those of the whole batch spread over every rank of the default process group, forward
    and backward, as if one process normalised the concatenated batch; two small MPI
    Allreduces in forward, one in backward. Inputs (N, C, ...) of 2 to 5 dimensions. In
    evaluation mode, or outside a distributed run, it is BatchNorm."""

    input_dims, input_names = (2, 3, 4, 5), "(N, C, ...) with 2 to 5 dimensions"

    def forward(self, x):
        from .. import distributed as dist
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        if x.ndim not in self.input_dims:
            raise ValueError(f"SyncBatchNorm: expected input of shape {self.input_names}, got "
                             f"shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected {self.num_features} channels, got input "
                             f"shape {x.shape}")
        return F.batch_norm_training(x, self.running_mean, self.running_var, self.weight,
                                     self.bias, self._momentum(), self.eps, total=_sum_over_ranks)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """module with every BatchNorm layer (at any depth) replaced by a SyncBatchNorm that
        takes over its parameters, buffers and mode; a BatchNorm module itself is returned
        converted. The other modules are kept, not copied."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine,
                       module.track_running_stats)
            for name in ("weight", "bias"):
                sync.register_parameter(name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                sync.register_buffer(name, getattr(module, name))
            return sync.train(module.training)
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child)
            if converted is not child:
                module._modules[name] = converted   # in place: keeps the module order
        return module


def _sum_over_ranks(array: np.ndarray) -> np.ndarray:
    from .. import distributed as dist
    dist.all_reduce(array)
    return array


def _affine(module: Module, shape: tuple, affine: bool, bias: bool, dtype) -> None:
    """weight = 1 and bias = 0 of shape (or None), as PyTorch initialises them."""
    module.register_parameter("weight", empty_parameter(shape, dtype) if affine else None)
    module.register_parameter("bias", empty_parameter(shape, dtype) if affine and bias
                              else None)
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Normalise over the last axes, of normalized_shape (an int or a tuple), then scale and
    shift elementwise by weight and bias of that shape (elementwise_affine; bias=False
    leaves the shift out)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=None):
        super().__init__()
        self.normalized_shape = ((int(normalized_shape),)
                                 if isinstance(normalized_shape, (int, np.integer))
                                 else tuple(int(n) for n in normalized_shape))
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise (N, C, ...) over groups of num_channels / num_groups channels, then scale
    and shift per channel (affine)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype=None):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        _affine(self, (num_channels,), affine, True, dtype)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
