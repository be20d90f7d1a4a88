"""Neural-network functions composed of primitives, so their backward comes from the tape:
activations, linear, dropout, batch_norm, pooling and losses (``import tensorgrad.functional
as F``). conv2d, conv_transpose2d, max_pool2d and avg_pool2d are primitives, re-exported from
`tensorgrad.ops`.
"""
from __future__ import annotations

import math

import numpy as np

from . import random
from ._args import pair
from .autograd import no_grad
from .ops.activation import Gelu
from .ops.conv import conv2d
from .ops.conv_transpose import conv_transpose2d
from .ops.linalg import linear
from .ops.loss import BinaryCrossEntropy
from .ops.movement import Scatter
from .ops.normalization import BatchNorm
from .ops import pool
from ._spellings import torch_names
from .tensor import Tensor, where

__all__ = [
    "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "elu", "softmax", "log_softmax",
    "linear", "flatten", "dropout", "dropout2d", "embedding", "batch_norm", "layer_norm",
    "group_norm", "normalize", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
    "adaptive_avg_pool2d", "pad", "interpolate", "one_hot", "nll_loss", "cross_entropy",
    "mse_loss", "binary_cross_entropy_with_logits", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "kl_div",
]

# ---------------------------------------------------------------------------- activations


def relu(x: Tensor) -> Tensor:
    """max(x, 0), with relu'(0) = 0."""
    return x.relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x (the gradient at 0 is negative_slope, as torch)."""
    return where(x.data > 0, x, x * negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


@torch_names
def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along axis, shifted by the maximum so it never overflows."""
    return x.softmax(axis)


@torch_names
def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along axis (finite for any finite x)."""
    return x.log_softmax(axis)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF (one primitive, `Gelu`), or with
    approximate="tanh" PyTorch's 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    if approximate == "none":
        return Gelu.apply(x)
    if approximate != "tanh":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    inner = (x + x * x * x * 0.044715) * math.sqrt(2 / math.pi)
    return x * (inner.tanh() + 1.0) * 0.5


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return x * x.sigmoid()


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1) (exp of min(x, 0): no overflow)."""
    return where(x.data > 0, x, (x.clip(max=0.0).exp() - 1.0) * alpha)


# ---------------------------------------------------------------------------- layers


@torch_names
def flatten(x: Tensor, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """Merge axes start_axis..end_axis into one."""
    return x.flatten(start_axis, end_axis)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by
    1 / (1 - p), using the global generator (`tg.manual_seed`). Identity unless training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    keep = random.generator().random(x.shape, dtype=np.float32) >= p
    mask = keep.astype(x.dtype) * (0.0 if p == 1.0 else 1.0 / (1.0 - p))
    return x * Tensor(mask)


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Channel dropout of (N, C, H, W) or (C, H, W) inputs: zero whole channels with
    probability p and scale the rest by 1 / (1 - p). Identity unless training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability p must be in [0, 1], got {p}")
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected input (N, C, H, W) or (C, H, W), got shape "
                         f"{x.shape}")
    if not training or p == 0.0:
        return x
    keep = random.generator().random(x.shape[:-2] + (1, 1), dtype=np.float32) >= p
    mask = keep.astype(x.dtype) * (0.0 if p == 1.0 else 1.0 / (1.0 - p))
    return x * Tensor(mask)


def embedding(ids, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0) -> Tensor:
    """Rows of weight (num_embeddings, dim) at integer ids (any shape): output
    ids.shape + (dim,). The row at padding_idx gets no gradient. With max_norm, the rows used
    are first renormalised in place to norm at most max_norm (as PyTorch does)."""
    ids = np.asarray(_array(ids))
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: ids must be integers, got dtype {ids.dtype} (shape "
                        f"{ids.shape})")
    count = weight.shape[0]
    if ids.size and (ids.min() < -count or ids.max() >= count):
        raise IndexError(f"embedding: id {ids.max() if ids.max() >= count else ids.min()} is "
                         f"out of range for {count} embeddings")
    if max_norm is not None:
        _renormalize_rows(weight, np.unique(ids % count), max_norm, norm_type)
    out = weight[ids]
    if padding_idx is None:
        return out
    padding = np.broadcast_to(((ids % count) == padding_idx % count)[..., None], out.shape)
    return where(padding, Tensor(out.data), out)  # the padding row's value, without gradient


def _renormalize_rows(weight: Tensor, rows: np.ndarray, max_norm: float, p: float) -> None:
    """weight[rows] *= max_norm / (norm + 1e-7) where a row's p-norm exceeds max_norm."""
    norms = np.linalg.norm(weight.data[rows], ord=p, axis=1, keepdims=True)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    with no_grad():
        weight[rows] = (weight.data[rows] * scale).astype(weight.dtype)


def _array(t) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else t


def batch_norm(x: Tensor, running_mean, running_var, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Normalise each channel (axis 1) of x, of shape (N, C) or (N, C, ...).

    Training: normalise with the batch mean and biased variance (one primitive, `BatchNorm`:
    one tape node) and, if running_mean / running_var (Tensors or ndarrays, or None) are
    given, update them in place:
    ``running = (1 - momentum) * running + momentum * batch_stat`` using the unbiased
    variance. Evaluation: normalise with the running statistics. Then scale by weight and
    shift by bias (each of shape (C,), or None).
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C) or (N, C, ...), got "
                         f"shape {x.shape}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"batch_norm: input has {channels} channels but {name} has shape "
                             f"{t.shape} (input {x.shape})")
    if training:
        count = x.data.size // max(channels, 1)
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input shape {x.shape}")
        return batch_norm_training(x, running_mean, running_var, weight, bias, momentum, eps)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation mode (training=False) needs running_mean "
                         "and running_var")
    shape = (1, channels) + (1,) * (x.ndim - 2)
    centered = x - Tensor(_array(running_mean).reshape(shape))
    scale = Tensor(((_array(running_var) + eps) ** -0.5).reshape(shape))
    if weight is not None:
        scale = scale * weight.reshape(shape)
    out = centered * scale
    return out if bias is None else out + bias.reshape(shape)


def batch_norm_training(x: Tensor, running_mean, running_var, weight, bias, momentum: float,
                        eps: float, total=None) -> Tensor:
    """batch_norm in training mode without the argument checks; `total` (sums per-channel
    arrays over a process group) makes the statistics those of the whole group's batch."""
    stats = []  # the primitive appends the batch mean, biased variance and count
    out = BatchNorm.apply(x, weight, bias, eps=eps, stats=stats, total=total)
    mean, var, count = stats
    _update_running(running_mean, mean, momentum)
    _update_running(running_var, var * (count / (count - 1)), momentum)
    return out


def _normalize_over(x: Tensor, axes: tuple, eps: float) -> Tensor:
    """(x - mean) / sqrt(var + eps) over axes, with the biased variance."""
    centered = x - x.mean(axes, keepdims=True)
    return centered / ((centered * centered).mean(axes, keepdims=True) + eps).sqrt()


def layer_norm(x: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) axes (which must have that shape), then
    scale by weight and shift by bias (each of normalized_shape, or None)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(
        normalized_shape)
    if x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the last axes "
                         f"of the input, shape {x.shape}")
    out = _normalize_over(x, tuple(range(x.ndim - len(shape), x.ndim)), eps)
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, ...) over each group of C / num_groups channels (and every other axis
    but the batch), then scale and shift per channel by weight and bias ((C,) or None)."""
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected input (N, C, ...) with C divisible by "
                         f"num_groups={num_groups}, got shape {x.shape}")
    n, c = x.shape[:2]
    grouped = x.reshape(n, num_groups, c // num_groups * int(np.prod(x.shape[2:])))
    out = _normalize_over(grouped, (2,), eps).reshape(x.shape)
    channel = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(channel)
    return out if bias is None else out + bias.reshape(channel)


def normalize(x: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along dim (PyTorch's F.normalize; a zero vector stays zero,
    with a zero gradient)."""
    if p == 2:
        total = (x * x).sum(dim, keepdims=True)
    else:
        total = (x.abs() ** p).sum(dim, keepdims=True)
    return x / total.maximum(eps ** p) ** (1.0 / p)


def _update_running(running, batch_stat: np.ndarray, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch_stat, in place (no-op if None)."""
    if running is not None:
        running = _array(running)
        running *= 1 - momentum
        running += momentum * batch_stat.reshape(running.shape)


# ---------------------------------------------------------------------------- pooling


def _pool_geometry(op: str, x: Tensor, kernel_size, stride, padding, dilation,
                   ceil_mode: bool) -> tuple:
    """kernel, stride, padding, dilation and output (h, w) pairs of a pooling call with
    PyTorch's ceil_mode rule (the last window must start inside the input or its left
    padding)."""
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    padding, dilation = pair(padding, "padding", op, 0), pair(dilation, "dilation", op, 1)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size "
                         f"{kernel} (input {x.shape})")
    out = []
    for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        size = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (size - 1) * s >= n + p:
            size -= 1
        if span < 0 or size < 1:
            raise ValueError(f"{op}: kernel {kernel} with dilation {dilation} is larger than "
                             f"the padded input (input {x.shape}, padding {padding})")
        out.append(size)
    return kernel, stride, padding, dilation, tuple(out)


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """2-D max pooling of an NCHW input (see `tensorgrad.ops.pool.max_pool2d`, the fast
    primitive used with the default options). dilation spaces the window's taps, ceil_mode
    keeps a last partial window, and return_indices also returns, as PyTorch, each maximum's
    flat index h * W + w into its input plane (int64). With those options the pool is one
    selection of the input at each window's first maximum (in row-major order, as PyTorch),
    so the gradient goes to that element."""
    if dilation == 1 and not ceil_mode and not return_indices:
        return pool.max_pool2d(x, kernel_size, stride, padding)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = _pool_geometry(
        "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    n, c, h, w = x.shape
    # every window's taps, from an array padded with -inf (never a maximum) far enough for
    # the last ceil_mode window
    rows = (np.arange(ho) * sh)[:, None] + np.arange(kh) * dh  # (Ho, kh), padded coordinates
    cols = (np.arange(wo) * sw)[:, None] + np.arange(kw) * dw
    xp = np.full((n, c, max(h + 2 * ph, rows.max() + 1), max(w + 2 * pw, cols.max() + 1)),
                 -np.inf, x.dtype)
    xp[:, :, ph:ph + h, pw:pw + w] = x.data
    taps = xp[:, :, rows[:, None, :, None], cols[None, :, None, :]]  # (N, C, Ho, Wo, kh, kw)
    first = taps.reshape(n, c, ho, wo, kh * kw).argmax(axis=-1)
    iy = rows[np.arange(ho)[:, None], first // kw] - ph
    ix = cols[np.arange(wo)[None, :], first % kw] - pw
    out = x[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], iy, ix]
    return (out, Tensor((iy * w + ix).astype(np.int64))) if return_indices else out


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling of an NCHW input (see `tensorgrad.ops.pool.avg_pool2d`, the fast
    primitive used with the default options). ceil_mode keeps a last partial window;
    count_include_pad=False averages over the input elements of each window only;
    divisor_override divides every sum by that number. PyTorch's divisors: a window's
    elements inside the padded input (with count_include_pad), else inside the input."""
    if not ceil_mode and count_include_pad and divisor_override is None:
        return pool.avg_pool2d(x, kernel_size, stride, padding)
    kernel, stride, padding, _, out = _pool_geometry("avg_pool2d", x, kernel_size, stride,
                                                     padding, 1, ceil_mode)
    counts = []
    for n, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        counts.append(end - start if count_include_pad else
                      np.minimum(end, n) - np.maximum(start, 0))
    # zero padding, and more at the bottom and right for the last ceil_mode window, then the
    # primitive's window means, rescaled from kh * kw to each window's own divisor
    extra = [max(0, (o - 1) * s + k - (n + 2 * p))
             for n, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, out)]
    padded = x.pad(((0, 0), (0, 0), (padding[0], padding[0] + extra[0]),
                    (padding[1], padding[1] + extra[1])))
    means = pool.avg_pool2d(padded, kernel, stride, 0)
    divisor = (np.full(out, float(divisor_override)) if divisor_override is not None
               else np.outer(*counts).astype(np.float64))
    return means * Tensor((kernel[0] * kernel[1] / divisor).astype(x.dtype))


def _bin_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size) matrix averaging over PyTorch's adaptive bins
    [floor(i * size / out), ceil((i + 1) * size / out))."""
    i = np.arange(out)[:, None]
    start, end = (i * size) // out, -((-(i + 1) * size) // out)
    inside = (np.arange(size) >= start) & (np.arange(size) < end)
    return (inside / (end - start)).astype(dtype)


def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """Average-pool (N, C, H, W) to (N, C, *output_size) over PyTorch's adaptive bins
    (an int for a square output; None in a pair keeps that input size)."""
    if x.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: expected a 4-D input (N, C, H, W), got shape "
                         f"{x.shape}")
    n, c, h, w = x.shape
    oh, ow = (s if o is None else o for s, o in zip(
        (h, w), pair(output_size, "output_size", "adaptive_avg_pool2d", 1, none=True)))
    if h % oh == 0 and w % ow == 0:  # equal bins: a reshape and a mean
        return x.reshape(n, c, oh, h // oh, ow, w // ow).mean(axis=(3, 5))
    return Tensor(_bin_matrix(h, oh, x.dtype)) @ x @ Tensor(_bin_matrix(w, ow, x.dtype).T)


# ---------------------------------------------------------------------------- resampling

_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x: Tensor, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's F.pad: pad is (left, right) for the last axis, then (top, bottom) for the one
    before, and so on. mode "constant" fills with value; "reflect" mirrors without repeating
    the edge, "replicate" repeats it, "circular" wraps around (each one selection of the
    input, so its backward sums the gradient of every copy back onto its source)."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of pad sizes, at most 2 per axis, got "
                         f"{pad} for an input of shape {x.shape}")
    if min(pad, default=0) < 0:
        raise ValueError(f"pad: negative padding {pad} is not supported")
    axes = [x.ndim - 1 - i for i in range(len(pad) // 2)]
    widths = [(0, 0)] * x.ndim
    for i, axis in enumerate(axes):
        widths[axis] = pad[2 * i:2 * i + 2]
    if mode == "constant":
        return x.pad(tuple(widths), value=value)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    for axis in axes:
        before, after = widths[axis]
        size = x.shape[axis]
        limit = size - 1 if mode == "reflect" else size
        if max(before, after) > limit or size == 0:
            raise ValueError(f"pad: {mode} padding {(before, after)} of axis {axis} must be at "
                             f"most {limit} for an input of shape {x.shape}")
        if before or after:  # the source of every output position, as np.pad pads an arange
            source = np.pad(np.arange(size), (before, after), mode=_PAD_MODES[mode])
            x = x[(slice(None),) * axis + (source,)]
    return x


def _source_positions(out: int, size: int, scale: float, align_corners: bool) -> np.ndarray:
    """Where each of out output positions samples an input axis of size (PyTorch's linear
    interpolation coordinates), clamped to [0, size - 1]."""
    i = np.arange(out, dtype=np.float64)
    if align_corners:
        src = i * ((size - 1) / (out - 1)) if out > 1 else np.zeros(out)
    else:
        src = np.maximum((i + 0.5) * scale - 0.5, 0.0)
    return np.minimum(src, size - 1)


def _linear_matrix(out: int, size: int, scale: float, align_corners: bool, dtype) -> np.ndarray:
    """(out, size) matrix of linear interpolation weights along one axis."""
    src = _source_positions(out, size, scale, align_corners)
    low = np.floor(src).astype(np.intp)
    high = np.minimum(low + 1, size - 1)
    frac = src - low
    matrix = np.zeros((out, size))
    np.add.at(matrix, (np.arange(out), low), 1 - frac)
    np.add.at(matrix, (np.arange(out), high), frac)
    return matrix.astype(dtype)


def _per_axis(value, name: str) -> tuple:
    """One number for both spatial axes, or a pair (interpolate's size and scale_factor)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2:
        raise ValueError(f"interpolate: {name} must be a number or a pair, got {value!r}")
    return values


def interpolate(x: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None) -> Tensor:
    """Resize the two spatial axes of (N, C, H, W) to size (an int or a pair), or by
    scale_factor (a number or a pair; the output is floor(H * scale)), as PyTorch:
    "nearest" takes input pixel floor(i * H / Ho) (floor(i / scale) with scale_factor);
    "bilinear" interpolates, on the corners' centres (align_corners=True) or PyTorch's
    default half-pixel grid (False). Both are selections or matrix products of the input, so
    the backward comes from the tape."""
    if x.ndim != 4:
        raise ValueError(f"interpolate: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"interpolate: mode must be 'nearest' or 'bilinear', got {mode!r}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to mode='bilinear'")
    in_size = x.shape[2:]
    if size is not None:
        out_size = tuple(int(v) for v in _per_axis(size, "size"))
        scales = [n / o if o else 0.0 for n, o in zip(in_size, out_size)]
    else:
        factors = tuple(float(v) for v in _per_axis(scale_factor, "scale_factor"))
        out_size = tuple(int(math.floor(n * f)) for n, f in zip(in_size, factors))
        scales = [1.0 / f if f > 0 else 0.0 for f in factors]
    if min(out_size) <= 0:
        raise ValueError(f"interpolate: the output size must be positive, got {out_size} for "
                         f"input {x.shape}")
    if mode == "nearest":
        rows, cols = (np.minimum(np.floor(np.arange(o) * s).astype(np.intp), n - 1)
                      for o, n, s in zip(out_size, in_size, scales))
        return x[:, :, rows[:, None], cols[None, :]]
    mh, mw = (_linear_matrix(o, n, s, bool(align_corners), x.dtype)
              for o, n, s in zip(out_size, in_size, scales))
    return Tensor(mh) @ x @ Tensor(mw.T)


# ---------------------------------------------------------------------------- losses


def _class_ids(op: str, target, shape: tuple, ignore_index: int = -100) -> np.ndarray:
    """Check that target holds integer class ids in [0, C) (or ignore_index) for every row of
    an (N, C) input."""
    ids = np.asarray(_array(target))
    if len(shape) != 2:
        raise ValueError(f"{op}: expected input of shape (N, C), got {shape}")
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class ids, got dtype {ids.dtype} "
                        f"(target shape {ids.shape})")
    if ids.shape != shape[:1]:
        raise ValueError(f"{op}: target shape {ids.shape} does not match input shape {shape}: "
                         f"expected ({shape[0]},)")
    _check_classes(op, ids[ids != ignore_index], shape[1])
    return ids


def _check_classes(op: str, ids: np.ndarray, num_classes: int) -> None:
    if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
        bad = ids.min() if ids.min() < 0 else ids.max()
        raise ValueError(f"{op}: target class {bad} is out of range for {num_classes} classes "
                         f"(valid ids are 0..{num_classes - 1})")


def _one_hot(ids: np.ndarray, num_classes: int, dtype) -> np.ndarray:
    return (ids[..., None] == np.arange(num_classes)).astype(dtype)


def one_hot(target, num_classes: int | None = None) -> Tensor:
    """int64 one-hot encoding of integer class ids, with a new last axis of size num_classes
    (max id + 1 when None)."""
    ids = np.asarray(_array(target))
    if ids.dtype.kind not in "iu":
        raise TypeError(f"one_hot: target must hold integer class ids, got dtype {ids.dtype}")
    if num_classes is None:
        num_classes = int(ids.max()) + 1 if ids.size else 0
    _check_classes("one_hot", ids, num_classes)
    return Tensor(_one_hot(ids, num_classes, np.int64))


def _check_reduction(op: str, reduction: str, extra: tuple = ()) -> None:
    if reduction not in ("mean", "sum", "none") + extra:
        allowed = ", ".join(repr(r) for r in ("mean", "sum") + extra)
        raise ValueError(f"{op}: reduction must be {allowed} or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _class_weights(op: str, weight, classes: int) -> np.ndarray | None:
    """The per-class weight as an ndarray of shape (C,), or None (a constant: PyTorch gives
    it no gradient either)."""
    if weight is None:
        return None
    weight = np.asarray(_array(weight))
    if weight.shape != (classes,):
        raise ValueError(f"{op}: weight must have shape ({classes},) for {classes} classes, got "
                         f"{weight.shape}")
    return weight


def _weighted_nll(log_probs: Tensor, ids: np.ndarray, weight, ignore_index: int,
                  reduction: str) -> tuple[Tensor, np.ndarray, float]:
    """PyTorch's nll_loss: -weight[y_n] * log_probs[n, y_n], 0 for ignored rows; the mean
    divides by the summed weights of the rows not ignored. Each kept row's target
    log-probability is selected (never multiplied by a one-hot, so a -inf elsewhere in the
    row cannot make NaN), and the sign, weights and mean's divisor ride on one constant
    vector: with the log-softmax, three tape nodes. Returns the loss, the kept rows and the
    mean's divisor."""
    rows = np.flatnonzero(ids != ignore_index)
    row_weight = np.ones(len(rows)) if weight is None else weight[ids[rows]]
    divisor = float(row_weight.sum())
    picked = log_probs[rows, ids[rows]]
    if reduction == "none":
        loss = picked * Tensor((-row_weight).astype(log_probs.dtype))
        if len(rows) < len(ids):
            loss = Scatter.apply(loss, shape=ids.shape, index=rows)
        return loss, rows, divisor
    scale = -1.0 / divisor if reduction == "mean" and divisor else -1.0
    loss = picked @ Tensor((row_weight * scale).astype(log_probs.dtype))
    if reduction == "mean" and not divisor:
        loss = loss * float("nan")  # nothing to average over: NaN, as PyTorch
    return loss, rows, divisor


def nll_loss(log_probs: Tensor, target, reduction: str = "mean", *, weight=None,
             ignore_index: int = -100) -> Tensor:
    """Negative log-likelihood of integer class ids under (N, C) log-probabilities, with
    PyTorch's optional per-class weight (C,) and ignore_index; the mean is weighted (divided
    by the summed weights of the rows not ignored; NaN when every row is ignored, as
    PyTorch)."""
    _check_reduction("nll_loss", reduction)
    ids = _class_ids("nll_loss", target, log_probs.shape, ignore_index)
    weight = _class_weights("nll_loss", weight, log_probs.shape[1])
    return _weighted_nll(log_probs, ids, weight, ignore_index, reduction)[0]


def cross_entropy(logits: Tensor, target, reduction: str = "mean",
                  label_smoothing: float = 0.0, *, weight=None,
                  ignore_index: int = -100) -> Tensor:
    """Cross-entropy between (N, C) logits and integer class ids (N,), via a max-shifted
    log-softmax: finite for logits of any finite magnitude, and for -inf logits other than
    the target's. weight (C,) and ignore_index as `nll_loss`. With label smoothing e the
    target distribution is (1 - e) * one_hot + e / C, weighted and averaged as in PyTorch."""
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    ids = _class_ids("cross_entropy", target, logits.shape, ignore_index)
    classes = logits.shape[1]
    weight = _class_weights("cross_entropy", weight, classes)
    log_probs = logits.log_softmax(axis=1)
    loss, rows, divisor = _weighted_nll(log_probs, ids, weight, ignore_index, reduction)
    if not label_smoothing:
        return loss
    # every class gets e / C: -sum_c weight_c log_probs[n, c] over the rows not ignored
    # (selected, so that an ignored row's -inf logits cannot make NaN)
    scale = -label_smoothing / classes
    if reduction == "mean":
        scale = scale / divisor if divisor else np.nan
    coef = (np.ones(classes) if weight is None else weight) * scale
    kept = log_probs if len(rows) == len(ids) else log_probs[rows]
    smooth = kept * Tensor(coef.astype(logits.dtype))
    if reduction != "none":
        return loss * (1.0 - label_smoothing) + smooth.sum()
    smooth = smooth.sum(axis=1)
    if len(rows) < len(ids):
        smooth = Scatter.apply(smooth, shape=ids.shape, index=rows)
    return loss * (1.0 - label_smoothing) + smooth


def _like_input(op: str, x: Tensor, target) -> Tensor:
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target, dtype=x.dtype))
    if target.shape != x.shape:
        raise ValueError(f"{op}: target shape {target.shape} differs from input shape {x.shape}")
    return target


def mse_loss(x: Tensor, target, reduction: str = "mean") -> Tensor:
    """Squared error (x - target) ** 2, averaged (or summed, or per element)."""
    _check_reduction("mse_loss", reduction)
    diff = x - _like_input("mse_loss", x, target)
    return _reduce(diff * diff, reduction)


def binary_cross_entropy_with_logits(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """-[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] in the stable form
    max(x, 0) - x t + log(1 + exp(-|x|)), finite for any finite logits.

    At x = 0, max(x, 0) splits its gradient evenly (0.5) and |x| has gradient 0, so the
    gradient there is the exact sigmoid(0) - t."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target = _like_input("binary_cross_entropy_with_logits", logits, target)
    loss = logits.maximum(0.0) - logits * target + ((-logits.abs()).exp() + 1.0).log()
    return _reduce(loss, reduction)


def l1_loss(x: Tensor, target, reduction: str = "mean") -> Tensor:
    """Absolute error |x - target| (its gradient at 0 is 0, as PyTorch's sign)."""
    _check_reduction("l1_loss", reduction)
    return _reduce((x - _like_input("l1_loss", x, target)).abs(), reduction)


def _quadratic_near_zero(op: str, x: Tensor, target, reduction: str, width: float,
                         linear_slope: float) -> Tensor:
    """0.5 d^2 * (linear_slope / width) where |d| < width, else linear_slope * (|d| -
    0.5 width), for d = x - target: Huber's loss and smooth L1 (width 0: plain L1)."""
    _check_reduction(op, reduction)
    if width < 0:
        raise ValueError(f"{op}: the threshold must be non-negative, got {width}")
    diff = x - _like_input(op, x, target)
    size = diff.abs()
    if width == 0:
        return _reduce(size * linear_slope, reduction)
    inside = size.data < width
    loss = where(inside, diff * diff * (0.5 * linear_slope / width),
                 (size - 0.5 * width) * linear_slope)
    return _reduce(loss, reduction)


def smooth_l1_loss(x: Tensor, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (PyTorch's smooth L1)."""
    return _quadratic_near_zero("smooth_l1_loss", x, target, reduction, beta, 1.0)


def huber_loss(x: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (PyTorch's Huber loss)."""
    return _quadratic_near_zero("huber_loss", x, target, reduction, delta, delta)


def binary_cross_entropy(x: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """-w [t log x + (1 - t) log(1 - x)] for probabilities x in [0, 1] (e.g. a sigmoid's
    output), each log clamped at -100 as PyTorch does; weight broadcasts against x. Prefer
    `binary_cross_entropy_with_logits` on logits: it is exact where sigmoid saturates."""
    _check_reduction("binary_cross_entropy", reduction)
    target = _like_input("binary_cross_entropy", x, target)
    if x.data.size and not (x.data.min() >= 0 and x.data.max() <= 1):
        raise ValueError(f"binary_cross_entropy: every input element must be a probability in "
                         f"[0, 1], got values from {x.data.min()} to {x.data.max()} (shape "
                         f"{x.shape})")
    loss = BinaryCrossEntropy.apply(x, target)
    if weight is not None:
        loss = loss * (weight if isinstance(weight, Tensor) else x._operand(weight))
    return _reduce(loss, reduction)


def kl_div(log_probs: Tensor, target, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence as PyTorch's kl_div: input holds log-probabilities, target
    probabilities (log-probabilities when log_target); pointwise t (log t - input), 0 where
    t = 0. reduction "batchmean" divides the sum by the batch size (the true KL divergence),
    "mean" by the number of elements (PyTorch's default)."""
    _check_reduction("kl_div", reduction, ("batchmean",))
    target = _like_input("kl_div", log_probs, target)
    if log_target:
        loss = target.exp() * (target - log_probs)
    else:
        positive = target.data > 0
        safe = where(positive, target, 1.0)  # log(1) = 0 where t = 0: no -inf, no NaN
        loss = where(positive, target * (safe.log() - log_probs), 0.0)
    if reduction == "batchmean":
        return loss.sum() / (log_probs.shape[0] if log_probs.ndim else 1)
    return _reduce(loss, reduction)
