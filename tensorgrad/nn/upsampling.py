"""Upsample: `F.interpolate` as a layer."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["Upsample"]


class Upsample(Module):
    """Resize (N, C, H, W) inputs to size or by scale_factor, mode "nearest" or "bilinear"
    (with align_corners), as `F.interpolate`."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None):
        super().__init__()
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self) -> str:
        given = f"size={self.size}" if self.size is not None else (
            f"scale_factor={self.scale_factor}")
        return f"{given}, mode={self.mode!r}"
