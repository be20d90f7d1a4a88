"""Movement primitives: reshape, permute, expand, getitem (and its adjoint scatter), setitem,
pad, cat, stack.

They move or select elements without arithmetic, so each backward puts the gradient back
where the elements came from (summing where one element was used several times).
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from .elementwise import unbroadcast

__all__ = ["Reshape", "Permute", "Expand", "GetItem", "SetItem", "Pad", "Cat", "Stack"]


class Reshape(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, *, shape):
        try:
            out = x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} "
                             f"elements) into shape {tuple(shape)}") from None
        ctx.in_shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Permute(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, *, axes):
        axes = tuple(int(a) for a in axes)
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)) or len(axes) != x.ndim:
            raise ValueError(f"permute: axes {axes} are not a permutation of the "
                             f"{x.ndim} axes of a tensor of shape {x.shape}")
        ctx.inverse = tuple(np.argsort([a % x.ndim for a in axes]))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, (np.ndarray, np.generic)):
            return grad.transpose(ctx.inverse)
        return grad.permute(*ctx.inverse)  # a Tensor, under create_graph


class Expand(Function):
    """Broadcast to a larger shape without copying (-1 keeps an axis' size)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, *, shape):
        shape = tuple(int(s) for s in shape)
        lead = len(shape) - x.ndim
        target = tuple(x.shape[i - lead] if s == -1 and i >= lead else s
                       for i, s in enumerate(shape))
        try:
            out = np.broadcast_to(x, target)
        except ValueError:
            raise ValueError(f"expand: cannot expand a tensor of shape {x.shape} to shape "
                             f"{shape}") from None
        ctx.meta = (x.shape, x.dtype)
        return out

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, *ctx.meta)


def _is_basic(index) -> bool:
    """True when the index selects a view (ints, slices, None, Ellipsis): no element repeats."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               for i in items)


class GetItem(Function):
    """x[index] with NumPy semantics; the backward scatter-adds (`Scatter`), so repeated
    indices sum. Twice differentiable: under create_graph the backward is a recorded Scatter,
    whose own backward is GetItem again."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, *, index):
        try:
            out = x[index]
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor of shape {x.shape})") from None
        ctx.meta = (x.shape, x.dtype, index)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, dtype, index = ctx.meta
        if isinstance(grad, (np.ndarray, np.generic)):
            return _scatter(grad, shape, dtype, index)
        return Scatter.apply(grad, shape=shape, index=index)  # a Tensor, under create_graph


def _scatter(values: np.ndarray, shape: tuple, dtype, index) -> np.ndarray:
    """zeros(shape) with values added at index (repeated indices sum)."""
    result = np.zeros(shape, dtype=dtype)
    if _is_basic(index):
        result[index] = values
    else:
        np.add.at(result, index, values)
    return result


class Scatter(Function):
    """The adjoint of getitem: a zero tensor of `shape` with x added at `index` (repeated
    indices sum); its backward is getitem."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, *, shape, index):
        ctx.index = index
        return _scatter(x, tuple(shape), x.dtype, index)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


class SetItem(Function):
    """A copy of x with x[index] = value (NumPy semantics, value broadcast): how
    ``x[index] = value`` is recorded on the tape. x's gradient is zero where it was
    overwritten; value's is the gradient at the elements it wrote (with repeated indices only
    the write that survives, the last one, counts), summed over broadcasting."""

    @staticmethod
    def forward(ctx, x, value, *, index):
        out = x.copy()
        try:
            out[index] = value
        except IndexError as e:
            raise IndexError(f"setitem: {e} (tensor of shape {x.shape})") from None
        ctx.meta = (index, np.shape(value), getattr(value, "dtype", None))
        return out

    @staticmethod
    def backward(ctx, grad):
        index, value_shape, value_dtype = ctx.meta
        need_x, need_value = ctx.needs_input_grad
        grad_x = grad_value = None
        if need_x:
            grad_x = grad.copy()
            grad_x[index] = 0
        if need_value:
            if _is_basic(index):
                written = grad[index]
            else:  # number the written slots; the survivor of each element takes its gradient
                slots = np.full(grad.shape, -1, dtype=np.int64)
                selected = slots[index].shape
                slots[index] = np.arange(int(np.prod(selected))).reshape(selected)
                survivors = slots >= 0
                written = np.zeros(int(np.prod(selected)), grad.dtype)
                written[slots[survivors]] = grad[survivors]
                written = written.reshape(selected)
            grad_value = unbroadcast(written, value_shape, value_dtype)
        return grad_x, grad_value


def normalize_pad_width(pad_width, ndim: int) -> np.ndarray:
    """np.pad's pad_width (an int, a pair, or one pair per axis) as an (ndim, 2) int array."""
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width} does not fit a tensor with {ndim} "
                         "dimensions; give one (before, after) pair per axis") from None
    if (widths < 0).any():
        raise ValueError(f"pad: negative pad_width {pad_width}")
    return widths


class Pad(Function):
    """Constant padding, with np.pad's pad_width convention."""

    @staticmethod
    def forward(ctx, x, *, pad_width, value=0.0):
        widths = normalize_pad_width(pad_width, x.ndim)
        ctx.window = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape))
        return np.pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.window]


def _check_not_empty(op: str, arrays) -> None:
    if not arrays:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        _check_not_empty("cat", arrays)
        try:
            out = np.concatenate(arrays, axis=axis)
        except (ValueError, np.exceptions.AxisError) as e:
            raise ValueError(f"cat: cannot concatenate shapes {[a.shape for a in arrays]} along "
                             f"axis {axis}: {e}") from None
        axis = axis % out.ndim
        ctx.meta = (axis, np.cumsum([a.shape[axis] for a in arrays])[:-1], [a.dtype for a in arrays])
        return out

    @staticmethod
    def backward(ctx, grad):
        axis, splits, dtypes = ctx.meta
        return tuple(g.astype(d, copy=False) for g, d in zip(np.split(grad, splits, axis=axis), dtypes))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        _check_not_empty("stack", arrays)
        if len({a.shape for a in arrays}) > 1:
            raise ValueError(f"stack: all tensors must have the same shape, got "
                             f"{[a.shape for a in arrays]}")
        try:
            out = np.stack(arrays, axis=axis)
        except np.exceptions.AxisError as e:
            raise ValueError(f"stack: {e}") from None
        ctx.meta = (axis % out.ndim, [a.dtype for a in arrays])
        return out

    @staticmethod
    def backward(ctx, grad):
        axis, dtypes = ctx.meta
        return tuple(np.take(grad, i, axis=axis).astype(d, copy=False) for i, d in enumerate(dtypes))
