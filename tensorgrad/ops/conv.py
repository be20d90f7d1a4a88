"""2-D convolution (cross-correlation, as in PyTorch) by im2col and matrix products, with a
hand-written backward.

Forward (the fastest layout measured, docs/performance.md): a strided view of the zero-padded
input, `_windows`, gives every kernel tap (i, j) the (Ho, Wo) grid of pixels it meets; copying it
yields the columns ``cols`` of shape (N, G, C/G * kh * kw, Ho * Wo), and one broadcast product
``W (G, K/G, C/G * kh * kw) @ cols`` lands directly in NCHW, with no transpose. Small images
share a product in groups, and big ones all in one (`_images_per_product`), at the price of a
transpose. With a bias, each group's columns get one more row of ones and W one more column
holding the bias: the bias rides along in the product, and its gradient comes out of dW's.
When nothing is recorded (inference), the images go by blocks of at most INFERENCE_BLOCK, so
that the columns stay small and in cache. When recording, a shared product with few output
channels (bound by reading its columns) also goes by blocks of images, and backward makes
each block's columns again instead of keeping them all (`_training_block`).

Backward: (dW | db) = the batch sum of cols @ grad^T; dX = col2im(W^T @ grad), kh * kw adds
into a zero-padded buffer: for stride 1 (and more columns than output channels) each add is
one contiguous run over a flat buffer (`_flat_input_gradient`), otherwise a strided add
through the same `_windows` view (`_input_gradient`). dX is skipped when the input needs no
gradient (the first layer of a network), dW likewise.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._args import pair
from ..autograd import Function

__all__ = ["conv2d", "Conv2d"]


def _padding(padding, kernel: tuple, dilation: tuple, stride: tuple) -> tuple:
    """((top, bottom), (left, right)) from an int, a pair, "valid" or "same"."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f'conv2d: padding must be an int, a pair, "valid" or "same", '
                             f"got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f'conv2d: padding="same" needs stride 1, got stride {stride}')
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)  # odd extra: bottom / right
    ph, pw = pair(padding, "padding", "conv2d", 0)
    return (ph, ph), (pw, pw)


class _Geometry(NamedTuple):
    """One conv2d call's shapes: input (N, C, H, W), kernel (kh, kw), stride, dilation,
    padding ((top, bottom), (left, right)), output (Ho, Wo) and groups."""

    input: tuple
    kernel: tuple
    stride: tuple
    dilation: tuple
    padding: tuple
    out: tuple
    groups: int

    @property
    def rows(self) -> int:
        """Rows of one group's columns (without the bias row): C/G * kh * kw."""
        return self.input[1] // self.groups * self.kernel[0] * self.kernel[1]


def _check_kernel_bias_dtypes(op: str, x, weight, bias, k: int, shapes: str) -> None:
    """The checks conv2d and conv_transpose2d share: a non-empty kernel, a bias of k values
    (one per output channel), and one floating dtype for input, weight and bias."""
    kh, kw = weight.shape[2:]
    if kh == 0 or kw == 0:
        raise ValueError(f"{op}: the kernel must not be empty, got kernel size {(kh, kw)} "
                         f"{shapes}")
    if bias is not None and bias.shape != (k,):
        raise ValueError(f"{op}: bias must have shape ({k},) for {k} output channels, got "
                         f"{bias.shape} {shapes}")
    dtypes = {x.dtype, weight.dtype} | ({bias.dtype} if bias is not None else set())
    if len(dtypes) > 1 or x.dtype.kind != "f":
        raise TypeError(f"{op}: input, weight and bias must share one floating dtype, got "
                        f"{sorted(map(str, dtypes))} {shapes}")


def _geometry(x, weight, bias, stride, padding, dilation, groups) -> _Geometry:
    """Validate a conv2d call and work out its geometry; errors name the op and shapes."""
    if x.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D weight (out_channels, in_channels/groups, kh, "
                         f"kw), got shape {weight.shape}")
    shapes = f"(input {x.shape}, weight {weight.shape})"
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    (c, h, w), (k, cg, kh, kw) = x.shape[1:], weight.shape
    if c % groups or k % groups:
        raise ValueError(f"conv2d: groups={groups} must divide both the input channels ({c}) "
                         f"and the output channels ({k}) {shapes}")
    if c != cg * groups:
        raise ValueError(f"conv2d: input has {c} channels but weight expects {cg * groups} "
                         f"({cg} per group x {groups} groups) {shapes}")
    _check_kernel_bias_dtypes("conv2d", x, weight, bias, k, shapes)
    stride = pair(stride, "stride", "conv2d", 1)
    dilation = pair(dilation, "dilation", "conv2d", 1)
    pads = _padding(padding, (kh, kw), dilation, stride)
    padded = (h + sum(pads[0]), w + sum(pads[1]))
    reach = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if reach[0] > padded[0] or reach[1] > padded[1]:
        raise ValueError(f"conv2d: kernel {(kh, kw)} with dilation {dilation} spans {reach}, "
                         f"larger than the padded input {padded} {shapes}")
    out = tuple((p - r) // s + 1 for p, r, s in zip(padded, reach, stride))
    return _Geometry(x.shape, (kh, kw), stride, dilation, pads, out, groups)


def _padded_shape(g: _Geometry) -> tuple:
    """(N, C, H + top + bottom, W + left + right)."""
    return (*g.input[:2], *(s + sum(p) for s, p in zip(g.input[2:], g.padding)))


def _pad(x: np.ndarray, g: _Geometry) -> np.ndarray:
    """x zero-padded as g says (x itself when there is no padding)."""
    if g.padding == ((0, 0), (0, 0)):
        return x
    xp = np.zeros(_padded_shape(g), x.dtype)  # 1.6x faster than np.pad
    _unpad(xp, g)[...] = x
    return xp


def _unpad(xp: np.ndarray, g: _Geometry) -> np.ndarray:
    """The view of a padded array where the unpadded input lies."""
    (top, _), (left, _) = g.padding
    return xp[:, :, top:top + g.input[2], left:left + g.input[3]]


def _windows(xp: np.ndarray, g: _Geometry) -> np.ndarray:
    """View (N, C, kh, kw, Ho, Wo) of a padded array xp: [n, c, i, j, y, x] is
    xp[n, c, y*sh + i*dh, x*sw + j*dw]."""
    sn, sc, sh, sw = xp.strides
    (dh, dw), (th, tw) = g.dilation, g.stride
    shape = (*g.input[:2], *g.kernel, *g.out)
    return as_strided(xp, shape, (sn, sc, dh * sh, dw * sw, th * sh, tw * sw))


# multiply-adds per image above which all images share one matrix product
SHARED_PRODUCT_WORK = 2**21
# columns a product should have at least: OpenBLAS is slow on short ones (LeNet c2, 100
# columns per image: dW 1.3x faster with 4 images per product)
MIN_PRODUCT_COLUMNS = 400


def _images_per_product(g: _Geometry, k: int) -> int:
    """How many images share one matrix product. Big images: all N, as OpenBLAS threads each
    product and N thread hand-offs per product can cost milliseconds each on a busy machine
    (measured 20x slower on the CIFAR c2 shape, 2 threads, load 4). Small ones: a broadcast
    product per group of b images, whose working set stays in cache (2x faster than one
    shared product), b the largest divisor of N that keeps the products above
    MIN_PRODUCT_COLUMNS columns, so 1 for images of more than 400 output pixels."""
    n, pixels = g.input[0], g.out[0] * g.out[1]
    if k * g.rows * pixels > SHARED_PRODUCT_WORK:
        return n
    wanted = max(1, min(n, -(-MIN_PRODUCT_COLUMNS // max(pixels, 1))))
    return max(b for b in range(1, wanted + 1) if n % b == 0)


def _row_windows(xp: np.ndarray, g: _Geometry) -> np.ndarray:
    """The `_windows` view, but of a copy of xp with each tap column's (Hp, Wo) pixels
    together, so that with stride 1 down the rows each tap's (Ho, Wo) grid is one run of
    Ho * Wo pixels: two copies of long rows beat one of short ones when Wo < 16 (im2col 1.5x
    faster on LeNet c2, where Wo = 10; slower for Wo >= 16)."""
    (n, c, hp, _), kw, (dh, dw), (sh, sw) = xp.shape, g.kernel[1], g.dilation, g.stride
    s0, s1, s2, s3 = xp.strides
    # rows[n, c, j, y, x] = xp[n, c, y, x * sw + j * dw]
    rows = np.ascontiguousarray(as_strided(xp, (n, c, kw, hp, g.out[1]),
                                           (s0, s1, dw * s3, s2, sw * s3)))
    r0, r1, r2, r3, r4 = rows.strides
    return as_strided(rows, (n, c, *g.kernel, *g.out), (r0, r1, dh * r3, r2, sh * r3, r4))


def _columns(xp: np.ndarray, g: _Geometry, ones_row: bool, b: int) -> np.ndarray:
    """im2col: (N/b, G, C/G * kh * kw, b * Ho * Wo), b images per product, copied from
    `_windows` (or `_row_windows` for short rows and stride 1 down the rows), plus a row of
    ones per group when ones_row (for the bias)."""
    (n, c), groups, rows, (ho, wo) = g.input[:2], g.groups, g.rows, g.out
    cols = np.empty((n // b, groups, rows + ones_row, b * ho * wo), xp.dtype)
    cols[:, :, rows:] = 1
    short = wo < 16 and g.stride[0] == 1
    windows = (_row_windows if short else _windows)(xp, g)
    windows = windows.reshape(n // b, b, groups, c // groups, *g.kernel, ho, wo)
    # reshape only splits axes here, so it is a view into cols, not a copy
    np.copyto(cols[:, :, :rows].reshape(n // b, groups, c // groups, *g.kernel, b, ho, wo),
              windows.transpose(0, 2, 3, 4, 5, 1, 6, 7))
    return cols


def _input_gradient(grad: np.ndarray, gy: np.ndarray, weight: np.ndarray,
                    g: _Geometry) -> np.ndarray:
    """dX = col2im(W^T @ grad), from grad (N, K, Ho, Wo) and the same laid out as the columns
    are, gy (N/b, G, K/G, b, Ho, Wo): kh * kw adds of each tap's columns into a zero-padded
    buffer. Stride 1 has a faster way, `_flat_input_gradient`, when a group's columns
    outnumber its output channels; with fewer (CIFAR c1: 27 columns, 32 channels), building
    its padded gradient costs more than it saves (8.7 vs 7.1 ms)."""
    if g.stride == (1, 1) and g.rows > weight.shape[0] // g.groups:
        return _flat_input_gradient(grad, weight, g)
    (n, c, hp, wp), (blocks, groups, kg, b, ho, wo) = _padded_shape(g), gy.shape
    (kh, kw), cg = g.kernel, c // groups
    dcols = np.matmul(_tap_major(weight, groups), gy.reshape(blocks, groups, kg, b * ho * wo))
    dcols = dcols.reshape(blocks, groups, kh, kw, cg, b, ho, wo)
    dcols = dcols.transpose(0, 5, 1, 4, 2, 3, 6, 7)  # as the windows: (N/b, b, G, C/G, kh, ...)
    dxp = np.zeros((n, c, hp, wp), gy.dtype)
    windows = _windows(dxp, g).reshape(blocks, b, groups, cg, kh, kw, ho, wo)
    for i in range(kh):
        for j in range(kw):
            windows[..., i, j, :, :] += dcols[..., i, j, :, :]
    return _unpad(dxp, g)


def _tap_major(weight: np.ndarray, groups: int) -> np.ndarray:
    """W^T per group, (G, kh * kw * C/G, K/G), its rows in tap-major order (i, j, c): each
    tap's columns then lie together."""
    k, cg, kh, kw = weight.shape
    return weight.reshape(groups, k // groups, cg, kh * kw).transpose(0, 3, 2, 1).reshape(
        groups, kh * kw * cg, k // groups)


def _flat_input_gradient(grad: np.ndarray, weight: np.ndarray, g: _Geometry) -> np.ndarray:
    """dX for stride 1, with every add one long contiguous run (dX 1.4-1.6x faster on the
    LeNet c2 and CIFAR c2 shapes than adds row by row, whose per-row overhead dominates).

    With stride 1, tap (i, j) meets the padded plane of each (c, n) in Ho runs of Wo pixels,
    one row apart, from offset o = i * dh * Q + j * dw, Q the row pitch. So the gradient is
    laid out as (G, K/G, N, P * Q) planes, each row widened with zeros to Q and each plane to
    P rows; one product per group gives every tap's (C/G, N, P * Q) columns as one contiguous
    block, added at offset o into a flat (C, N, P, Q) buffer in a single run. The zeros make
    the spill past each row's and plane's end harmless: it lands only in padding, which is
    cut off. That needs P >= H + max(top, bottom) (and Ho), not the padded H + top + bottom:
    a plane's bottom padding can be the next one's top (3x3 "same" on 8x8: products 1.23x
    narrower); likewise Q."""
    (n, c, h, w), (k, groups) = g.input, (grad.shape[1], g.groups)
    (kh, kw), (dh, dw), (ho, wo), kg = g.kernel, g.dilation, g.out, k // groups
    (top, bottom), (left, right) = g.padding
    p, q = max(h + max(top, bottom), ho), max(w + max(left, right), wo)
    gy = np.zeros((k, n, p * q), grad.dtype)
    gy[:, :, :ho * q].reshape(k, n, ho, q)[..., :wo] = grad.transpose(1, 0, 2, 3)
    dcols = np.matmul(_tap_major(weight, groups), gy.reshape(groups, kg, -1))
    dcols = dcols.reshape(groups, kh, kw, -1)  # [:, i, j]: tap (i, j), (G, C/G * N * P * Q)
    size = dcols.shape[-1]
    flat = np.zeros(groups * size + (kh - 1) * dh * q + (kw - 1) * dw, grad.dtype)
    for i in range(kh):
        for j in range(kw):
            start = i * dh * q + j * dw
            flat[start:start + groups * size].reshape(groups, size)[...] += dcols[:, i, j]
    dxp = flat[:groups * size].reshape(c, n, p, q).transpose(1, 0, 2, 3)
    return _unpad(dxp, g)  # top-left offsets only: any pitch


# A recorded convolution whose images share one product with fewer than
# BLOCKED_MAX_CHANNELS output channels per group (a product bound by reading its columns, not
# by arithmetic) goes by blocks of images whose columns take at most TRAINING_COLUMN_BYTES,
# so they stay in cache, and backward makes them again instead of keeping them: ResNet-20's
# 16- and 32-channel 3x3 convs 1.6x and 1.2x faster at batch 128; for 64 channels or more,
# within 4% either way at batch 64 and disputed at 128 (docs/performance.md,
# `bench_conv_blocks.py`).
BLOCKED_MAX_CHANNELS = 64
TRAINING_COLUMN_BYTES = 2**22


def _training_block(g: _Geometry, k: int, bias: bool, itemsize: int) -> int:
    """Images per block for a recorded convolution: all of them, or fewer when the images
    share one product, its columns take more than TRAINING_COLUMN_BYTES and it has fewer
    than BLOCKED_MAX_CHANNELS output channels per group."""
    n, pixels = g.input[0], g.out[0] * g.out[1]
    size = (g.rows + bias) * pixels * itemsize  # one image's columns
    if k // g.groups >= BLOCKED_MAX_CHANNELS or _images_per_product(g, k) < n or \
            n * size <= TRAINING_COLUMN_BYTES:
        return n
    return max(1, TRAINING_COLUMN_BYTES // size)


# images convolved at a time when nothing is recorded (inference): 1.6x faster LeNet-5
# inference at batch 1000 than all at once
INFERENCE_BLOCK = 64


def _convolve(x, weight, bias, g: _Geometry) -> tuple:
    """The convolution, its columns and the images per product."""
    (n, k), groups = (x.shape[0], weight.shape[0]), g.groups
    b = _images_per_product(g, k)
    cols = _columns(_pad(x, g), g, bias is not None, b)
    w = weight.reshape(groups, k // groups, g.rows)
    if bias is not None:
        w = np.concatenate([w, bias.reshape(groups, k // groups, 1)], axis=2)
    y = np.matmul(w, cols).reshape(n // b, k, b, *g.out)  # no copy for b = 1
    out = np.ascontiguousarray(y.transpose(0, 2, 1, 3, 4)).reshape(n, k, *g.out)
    return out, cols, b


def _convolve_by_blocks(x, weight, bias, g: _Geometry, block: int) -> np.ndarray:
    """The convolution of x, `block` images at a time (the columns are not kept)."""
    outs = [_convolve(x[i:i + block], weight, bias, g._replace(input=x[i:i + block].shape))[0]
            for i in range(0, max(len(x), 1), block)]
    return outs[0] if len(outs) == 1 else np.concatenate(outs)


class Conv2d(Function):
    """conv2d as a primitive: inputs x, weight and optionally bias; see `conv2d`."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1):
        g = _geometry(x, weight, bias, stride, padding, dilation, groups)
        if not ctx.is_recording:  # nothing to keep: blocks of images, whose columns stay in cache
            return _convolve_by_blocks(x, weight, bias, g, INFERENCE_BLOCK)
        needs = ctx.needs_input_grad
        block = _training_block(g, weight.shape[0], bias is not None, x.dtype.itemsize)
        ctx.geometry, ctx.block = g, block
        if block < len(x):  # columns too big to keep: made again, block by block, in backward
            ctx.save_for_backward(weight, x)
            return _convolve_by_blocks(x, weight, bias, g, block)
        out, cols, b = _convolve(x, weight, bias, g)
        ctx.images_per_product = b
        ctx.save_for_backward(weight if needs[0] else None, cols if needs[1] else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        g, needs = ctx.geometry, ctx.needs_input_grad
        if ctx.block >= g.input[0]:
            weight, cols = ctx.saved_tensors
            return _backward(grad, weight, cols, g, ctx.images_per_product, needs)
        weight, x = ctx.saved_tensors
        has_bias = len(needs) == 3
        dxs, dw, db = [], 0, 0
        for start in range(0, len(x), ctx.block):
            xb = x[start:start + ctx.block]
            gb = g._replace(input=xb.shape)
            b = _images_per_product(gb, weight.shape[0])
            cols = _columns(_pad(xb, gb), gb, has_bias, b) if needs[1] else None
            grads = _backward(grad[start:start + ctx.block], weight, cols, gb, b, needs)
            dxs.append(grads[0])
            dw = dw + grads[1] if needs[1] else None
            db = db + grads[2] if has_bias and needs[2] else None
        dx = np.concatenate(dxs) if needs[0] else None
        return (dx, dw, db) if has_bias else (dx, dw)


def _backward(grad, weight, cols, g: _Geometry, b: int, needs) -> tuple:
    """(dX, dW[, db]) of the images in grad, from their columns (b images per product)."""
    (n, c), k, groups, rows = g.input[:2], grad.shape[1], g.groups, g.rows
    gy = np.ascontiguousarray(grad.reshape(n // b, b, groups, k // groups, *g.out)
                              .transpose(0, 2, 3, 1, 4, 5))  # as cols: no copy for b = 1
    dx = dw = db = None
    if needs[0]:
        dx = _input_gradient(grad, gy, weight, g)
    if needs[1]:
        # (dW | db)^T, summed over the blocks: cols @ grad^T, as OpenBLAS is erratic (up
        # to 100x slower) on some shapes of grad @ cols^T
        gt = gy.reshape(n // b, groups, k // groups, b * g.out[0] * g.out[1])
        gt = gt.transpose(0, 1, 3, 2)
        dwb = np.matmul(cols, gt).sum(axis=0)
        dw = dwb[:, :rows].transpose(0, 2, 1).reshape(k, c // groups, *g.kernel)
    if len(needs) == 2:
        return dx, dw
    if needs[2]:  # from the ones row of cols when dW was computed
        db = dwb[:, rows].reshape(k) if needs[1] else grad.sum(axis=(0, 2, 3))
    return dx, dw, db


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch's conv2d) of an NCHW input.

    x: (N, C, H, W); weight: (K, C/groups, kh, kw); bias: (K,) or None. stride and dilation are
    positive ints or (h, w) pairs; padding is a non-negative int or (h, w) pair of zeros added
    on both sides, "valid" (none) or "same" (output as large as the input; stride 1 only; an
    odd total padding puts the extra row / column at the bottom / right, as PyTorch). groups
    splits the channels into independent convolutions. Returns (N, K, Ho, Wo) with
    Ho = (H + pad_h - dilation_h * (kh - 1) - 1) // stride_h + 1 (likewise Wo).
    """
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d.apply(*inputs, stride=stride, padding=padding, dilation=dilation,
                        groups=groups)
