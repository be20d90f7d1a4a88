"""2-D transposed convolution (PyTorch's conv_transpose2d), built from conv2d's machinery.

A transposed convolution is the input gradient of a convolution: with the conv whose input
has the transposed conv's output shape (N, C_out, H_out, W_out), the same weight and the
same stride, padding, dilation and groups, conv_transpose2d(x) is that conv's `_input_gradient`
of x. So the forward is conv2d's col2im, and the backward is conv2d's forward (for the input
gradient) and conv2d's weight gradient (cols of the upstream gradient times x); no new kernel.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from .._args import pair
from .conv import (_columns, _convolve, _Geometry, _input_gradient, _pad,
                   _check_kernel_bias_dtypes)

__all__ = ["conv_transpose2d", "ConvTranspose2d"]


def _geometry(x, weight, bias, stride, padding, output_padding, dilation, groups) -> _Geometry:
    """The geometry of the conv whose input gradient this transposed conv is; errors name
    conv_transpose2d and the shapes."""
    op = "conv_transpose2d"
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) and a 4-D weight "
                         f"(in_channels, out_channels/groups, kh, kw), got input {x.shape} and "
                         f"weight {weight.shape}")
    shapes = f"(input {x.shape}, weight {weight.shape})"
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    (n, c, h, w), (cin, cg, kh, kw) = x.shape, weight.shape
    if c != cin or c % groups:
        raise ValueError(f"{op}: input has {c} channels but weight expects {cin}, which "
                         f"groups={groups} must divide {shapes}")
    k = cg * groups
    _check_kernel_bias_dtypes(op, x, weight, bias, k, shapes)
    stride, dilation = pair(stride, "stride", op, 1), pair(dilation, "dilation", op, 1)
    padding = pair(padding, "padding", op, 0)
    extra = pair(output_padding, "output_padding", op, 0)
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than either stride "
                         f"{stride} or dilation {dilation}")
    out = tuple((i - 1) * s - 2 * p + d * (kk - 1) + e + 1 for i, s, p, d, kk, e in
                zip((h, w), stride, padding, dilation, (kh, kw), extra))
    if min(out) <= 0:
        raise ValueError(f"{op}: the output size {out} would not be positive {shapes}")
    return _Geometry((n, k, *out), (kh, kw), stride, dilation,
                     tuple((p, p) for p in padding), (h, w), groups)


class ConvTranspose2d(Function):
    """conv_transpose2d as a primitive: inputs x, weight and optionally bias; see
    `conv_transpose2d`."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride=1, padding=0, output_padding=0,
                dilation=1, groups=1):
        g = _geometry(x, weight, bias, stride, padding, output_padding, dilation, groups)
        (n, c, h, w), k = x.shape, weight.shape[0]
        # x laid out as conv2d's backward lays out its upstream gradient, one image a product
        gx = x.reshape(n, groups, k // groups, 1, h, w)
        out = np.ascontiguousarray(_input_gradient(x, gx, weight, g))
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        if ctx.is_recording:
            ctx.geometry = g
            ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                                  weight if ctx.needs_input_grad[0] else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        g = ctx.geometry
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        dx = dw = db = None
        if needs[0]:  # conv2d of the upstream gradient
            dx, cols, b = _convolve(grad, weight, None, g)
        elif needs[1]:
            b = 1
            cols = _columns(_pad(grad, g), g, False, b)
        if needs[1]:  # conv2d's weight gradient: cols(grad) @ x^T, summed over the blocks
            (n, k, h, w), groups = x.shape, g.groups
            xt = x.reshape(n // b, b, groups, k // groups, h * w).transpose(0, 2, 1, 4, 3)
            xt = xt.reshape(n // b, groups, b * h * w, k // groups)
            dwb = np.matmul(cols, xt).sum(axis=0)  # (G, C_out/G * kh * kw, K/G)
            dw = dwb.transpose(0, 2, 1).reshape(k, g.input[1] // groups, *g.kernel)
        if len(needs) == 2:
            return dx, dw
        if needs[2]:
            db = grad.sum(axis=(0, 2, 3))
        return dx, dw, db


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution of an NCHW input (PyTorch's conv_transpose2d, same
    argument order): x (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw), bias (C_out,)
    or None. Output (N, C_out, H_out, W_out) with H_out = (H - 1) * stride - 2 * padding +
    dilation * (kh - 1) + output_padding + 1; output_padding (extra rows and columns at the
    bottom and right, to pick among the input sizes a strided conv maps to H) must be
    smaller than stride or dilation."""
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return ConvTranspose2d.apply(*inputs, stride=stride, padding=padding,
                                 output_padding=output_padding, dilation=dilation, groups=groups)
