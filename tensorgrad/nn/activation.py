"""Activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, ELU, Softmax, LogSoftmax.

PyTorch's inplace=True is accepted, and computed out of place: the result is the same, and
the input keeps its values (so nothing saved for backward is overwritten)."""
from __future__ import annotations

import warnings

from .. import functional as F
from .module import Module

__all__ = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "ELU", "Softmax",
           "LogSoftmax"]


class _Inplace(Module):
    """An activation that accepts PyTorch's inplace flag (computed out of place)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    def forward(self, x):
        return F.relu(x)


class LeakyReLU(_Inplace):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class GELU(Module):
    """x * Phi(x) (approximate="none"), or its tanh approximation (approximate="tanh")."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_Inplace):
    """x * sigmoid(x)."""

    def forward(self, x):
        return F.silu(x)


class ELU(_Inplace):
    """x for x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class _SoftmaxAlong(Module):
    """Softmax-like along dim; dim=None picks PyTorch's legacy axis (0 for 0-, 1- and 3-D
    inputs, else 1) with PyTorch's warning."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def _dim(self, x) -> int:
        if self.dim is not None:
            return self.dim
        warnings.warn(f"Implicit dimension choice for {type(self).__name__.lower()} has been "
                      "deprecated. Change the call to include dim=X as an argument.",
                      stacklevel=3)
        return 0 if x.ndim in (0, 1, 3) else 1

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxAlong):
    def forward(self, x):
        return F.softmax(x, self._dim(x))


class LogSoftmax(_SoftmaxAlong):
    def forward(self, x):
        return F.log_softmax(x, self._dim(x))
