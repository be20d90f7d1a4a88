"""Conv2d and ConvTranspose2d: 2-D (transposed) convolution layers over (N, C, H, W) inputs,
with PyTorch's parameters."""
from __future__ import annotations

from .. import functional as F
from .._args import pair
from ..ops.conv_transpose import conv_transpose2d
from .init import reset_kaiming_uniform
from .module import Module, empty_parameter

__all__ = ["Conv2d", "ConvTranspose2d"]


class Conv2d(Module):
    """Cross-correlation of (N, in_channels, H, W) inputs with a weight of shape
    (out_channels, in_channels // groups, kh, kw) plus a bias (out_channels,), initialised
    as in PyTorch. padding is an int, a pair, "valid" or "same" (see `F.conv2d`)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, dtype=None):
        super().__init__()
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.padding = (padding if isinstance(padding, str)
                        else pair(padding, "padding", "Conv2d", 0))
        self.dilation = pair(dilation, "dilation", "Conv2d", 1)
        self.weight = empty_parameter((out_channels, in_channels // groups) + self.kernel_size,
                                      dtype)
        self.register_parameter("bias", empty_parameter((out_channels,), dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_kaiming_uniform(self.weight, self.bias)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + (", bias=False" if self.bias is None else "")


class ConvTranspose2d(Module):
    """Transposed convolution (the gradient of a Conv2d with respect to its input) of
    (N, in_channels, H, W) inputs, with a weight of shape (in_channels, out_channels //
    groups, kh, kw) and a bias (out_channels,), initialised as in PyTorch. forward(x,
    output_size) picks the output_padding that gives that (H_out, W_out)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", dtype=None):
        super().__init__()
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"ConvTranspose2d: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only padding_mode='zeros' is supported (as in "
                             f"PyTorch), got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", "ConvTranspose2d", 1)
        self.stride = pair(stride, "stride", "ConvTranspose2d", 1)
        self.padding = pair(padding, "padding", "ConvTranspose2d", 0)
        self.output_padding = pair(output_padding, "output_padding", "ConvTranspose2d", 0)
        self.dilation = pair(dilation, "dilation", "ConvTranspose2d", 1)
        self.weight = empty_parameter((in_channels, out_channels // groups) + self.kernel_size,
                                      dtype)
        self.register_parameter("bias", empty_parameter((out_channels,), dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_kaiming_uniform(self.weight, self.bias)

    def _output_padding(self, x, output_size) -> tuple:
        if output_size is None:
            return self.output_padding
        wanted = tuple(output_size)[-2:]
        smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
            x.shape[2:], self.stride, self.padding, self.dilation, self.kernel_size)]
        extra = tuple(int(want) - low for want, low in zip(wanted, smallest))
        if len(wanted) != 2 or min(extra) < 0:
            raise ValueError(f"ConvTranspose2d: output_size {tuple(output_size)} is not "
                             f"reachable from input {x.shape}: the smallest is "
                             f"{tuple(smallest)}")
        return extra

    def forward(self, x, output_size=None):
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(x, output_size), self.groups,
                                self.dilation)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        for name, default in (("padding", (0, 0)), ("output_padding", (0, 0)),
                              ("dilation", (1, 1))):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + (", bias=False" if self.bias is None else "")
