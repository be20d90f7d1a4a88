"""Neural-network functions composed of primitives, so their backward comes from the tape:
activations, linear, dropout, batch_norm, pooling and losses (``import tensorgrad.functional
as F``). conv2d, max_pool2d and avg_pool2d are primitives, re-exported from `tensorgrad.ops`.
"""
from __future__ import annotations

import numpy as np

from . import random
from .ops.conv import conv2d
from .ops.linalg import linear
from .ops.normalization import BatchNorm
from .ops.pool import avg_pool2d, max_pool2d
from .tensor import Tensor, where

__all__ = [
    "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "flatten",
    "dropout", "batch_norm", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "one_hot", "nll_loss", "cross_entropy", "mse_loss", "binary_cross_entropy_with_logits",
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


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along axis, shifted by the maximum so it never overflows."""
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along axis (finite for any finite x)."""
    return x.log_softmax(axis)


# ---------------------------------------------------------------------------- layers


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


def _update_running(running, batch_stat: np.ndarray, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch_stat, in place (no-op if None)."""
    if running is not None:
        running = _array(running)
        running *= 1 - momentum
        running += momentum * batch_stat.reshape(running.shape)


# ---------------------------------------------------------------------------- pooling


def _pair(value, name: str) -> tuple:
    pair = (value, value) if value is None or isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name}: expected an int or a pair, got {value!r}")
    return pair


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
    oh, ow = (s if o is None else int(o)
              for s, o in zip((h, w), _pair(output_size, "adaptive_avg_pool2d")))
    if oh <= 0 or ow <= 0:
        raise ValueError(f"adaptive_avg_pool2d: output size must be positive, got {(oh, ow)}")
    if h % oh == 0 and w % ow == 0:  # equal bins: a reshape and a mean
        return x.reshape(n, c, oh, h // oh, ow, w // ow).mean(axis=(3, 5))
    return Tensor(_bin_matrix(h, oh, x.dtype)) @ x @ Tensor(_bin_matrix(w, ow, x.dtype).T)


# ---------------------------------------------------------------------------- losses


def _class_ids(op: str, target, shape: tuple) -> np.ndarray:
    """Check that target holds integer class ids in [0, C) for every row of an (N, C) input."""
    ids = np.asarray(_array(target))
    if len(shape) != 2:
        raise ValueError(f"{op}: expected input of shape (N, C), got {shape}")
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class ids, got dtype {ids.dtype} "
                        f"(target shape {ids.shape})")
    if ids.shape != shape[:1]:
        raise ValueError(f"{op}: target shape {ids.shape} does not match input shape {shape}: "
                         f"expected ({shape[0]},)")
    _check_classes(op, ids, shape[1])
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


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _expected_log_prob(log_probs: Tensor, weights: np.ndarray, reduction: str) -> Tensor:
    """-sum_c weights[n, c] * log_probs[n, c], reduced over n; the sign and the 1/N of the
    mean are folded into the constant weights, so the tape holds one product and one sum."""
    scale = -1.0 / log_probs.shape[0] if reduction == "mean" and log_probs.shape[0] else -1.0
    picked = log_probs * Tensor((weights * scale).astype(log_probs.dtype))
    return picked.sum(axis=1) if reduction == "none" else picked.sum()


def nll_loss(log_probs: Tensor, target, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer class ids under (N, C) log-probabilities."""
    _check_reduction("nll_loss", reduction)
    ids = _class_ids("nll_loss", target, log_probs.shape)
    return _expected_log_prob(log_probs, _one_hot(ids, log_probs.shape[1], log_probs.dtype),
                              reduction)


def cross_entropy(logits: Tensor, target, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between (N, C) logits and integer class ids (N,), via a max-shifted
    log-softmax: finite for logits of any finite magnitude. With label smoothing e the
    target distribution is (1 - e) * one_hot + e / C, as in PyTorch."""
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    ids = _class_ids("cross_entropy", target, logits.shape)
    classes = logits.shape[1]
    weights = _one_hot(ids, classes, np.float64)
    if label_smoothing:
        weights = weights * (1.0 - label_smoothing) + label_smoothing / classes
    return _expected_log_prob(logits.log_softmax(axis=1), weights, reduction)


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
