"""Dropout and Dropout2d (whole channels). PyTorch's inplace=True is accepted and computed
out of place (the same result; the input keeps its values)."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout2d"]


class Dropout(Module):
    """Inverted dropout with probability p while training; the identity in eval mode."""

    function = staticmethod(F.dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: probability p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return self.function(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")


class Dropout2d(Dropout):
    """Zeroes whole channels of (N, C, H, W) or (C, H, W) inputs with probability p while
    training (scaling the rest by 1 / (1 - p)); the identity in eval mode."""

    function = staticmethod(F.dropout2d)
