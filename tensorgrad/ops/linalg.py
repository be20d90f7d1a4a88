"""Matrix product with NumPy's matmul semantics (batched, broadcasting batch dimensions, and
1-D operands treated as a row (left) or column (right) vector that is then removed), and the
fully connected layer x @ weight.T + bias as one primitive."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from .elementwise import unbroadcast

__all__ = ["MatMul", "Linear", "linear"]


class MatMul(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes "
                             f"{a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
                             f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
        try:
            out = np.matmul(a, b)
        except ValueError:
            raise ValueError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not "
                             "broadcast") from None
        ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a      # (..., n, k)
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b      # (..., k, m)
        g2 = grad.reshape(grad.shape + (1,)) if b.ndim == 1 else grad  # restore m, then n
        g2 = g2.reshape(g2.shape[:-1] + (1, g2.shape[-1])) if a.ndim == 1 else g2
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(g2 @ _swap_last_axes(b2), a2.shape, a.dtype).reshape(a.shape)
        if need_b:
            grad_b = unbroadcast(_swap_last_axes(a2) @ g2, b2.shape, b.dtype).reshape(b.shape)
        return grad_a, grad_b


class Linear(Function):
    """x @ weight.T + bias as one tape node (a composite would record three: the transpose,
    the product and the sum); see `linear`."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: input has {x.shape[-1] if x.ndim else 0} features but "
                             f"weight expects {weight.shape[1] if weight.ndim == 2 else '?'} "
                             f"(input {x.shape}, weight {weight.shape}; weight must be "
                             "(out_features, in_features))")
        if bias is not None and bias.shape != weight.shape[:1]:
            raise ValueError(f"linear: bias must have shape ({weight.shape[0]},) for "
                             f"{weight.shape[0]} output features, got {bias.shape}")
        out = np.matmul(x, weight.T)
        if bias is not None:
            out = np.add(out, bias, out=out if out.dtype == np.result_type(out, bias) else None)
        if ctx.is_recording:
            ctx.save_for_backward(x, weight)
            ctx.bias_dtype = None if bias is None else bias.dtype
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        lead = int(np.prod(grad.shape[:-1]))  # every leading axis is a batch axis (not -1:
        rows = grad.reshape(lead, grad.shape[-1])  # Linear(0, k) has size-0 arrays)
        grad_x = unbroadcast(grad @ weight, x.shape, x.dtype) if needs[0] else None
        grad_w = (unbroadcast(_swap_last_axes(rows) @ x.reshape(lead, x.shape[-1]), weight.shape,
                              weight.dtype) if needs[1] else None)
        if len(needs) == 2:
            return grad_x, grad_w
        if not needs[2]:
            return grad_x, grad_w, None
        return grad_x, grad_w, unbroadcast(rows.sum(axis=0), weight.shape[:1], ctx.bias_dtype)


def linear(x, weight, bias=None):
    """x @ weight.T + bias for x of shape (..., in_features), weight (out_features,
    in_features) and bias (out_features,) or None; one tape node."""
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)


def _swap_last_axes(x):
    if isinstance(x, (np.ndarray, np.generic)):
        return np.swapaxes(x, -1, -2)
    return x.transpose(-1, -2)  # a Tensor, under create_graph


def parse_einsum(equation: str, shapes: list) -> tuple:
    """(input subscripts, output subscripts) of an einsum equation ('ij,jk->ik', or implicit
    'ij,jk': the output is the letters used once, sorted), checked against the operands."""
    equation = equation.replace(" ", "")
    if "..." in equation:
        raise ValueError(f"einsum: '...' is not supported (equation {equation!r}); name every "
                         "axis with a letter")
    inputs, arrow, output = equation.partition("->")
    inputs = inputs.split(",")
    if not all(s.isalpha() for s in inputs + ([output] if output else [])) or len(inputs) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} does not fit {len(shapes)} operands "
                         "(letters a-z/A-Z per axis, one comma-separated term per operand)")
    for term, shape in zip(inputs, shapes):
        if len(term) != len(shape):
            raise ValueError(f"einsum: term {term!r} names {len(term)} axes but its operand has "
                             f"shape {shape}")
    if not arrow:
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs, output


class Einsum(Function):
    """np.einsum over operands named by letters. The gradient of each operand is itself an
    einsum (of the output gradient with the other operands), broadcast over the letters only
    that operand has and written onto its diagonal where it repeats a letter ('ii')."""

    @staticmethod
    def forward(ctx, *operands, equation):
        inputs, output = parse_einsum(equation, [a.shape for a in operands])
        try:
            out = np.einsum(f"{','.join(inputs)}->{output}", *operands)
        except ValueError as error:
            raise ValueError(f"einsum: {equation!r} with shapes {[a.shape for a in operands]}: "
                             f"{error}") from None
        ctx.save_for_backward(*operands)
        ctx.terms = (inputs, output)
        return out

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        inputs, output = ctx.terms
        grads = []
        for i, (term, x) in enumerate(zip(inputs, operands)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(inputs) if j != i]
            letters = "".join(dict.fromkeys(term))  # each letter once, in order
            kept = "".join(c for c in letters if c in output or any(c in t for t in others))
            partial = np.einsum(",".join([output] + others) + "->" + kept, grad,
                                *(a for j, a in enumerate(operands) if j != i))
            sizes = dict(zip(term, x.shape))
            full = np.broadcast_to(partial.reshape([sizes[c] if c in kept else 1 for c in letters]),
                                   [sizes[c] for c in letters])
            if letters == term:
                grads.append(full.astype(x.dtype, copy=False))
            else:  # a repeated letter: the gradient lives on that diagonal of zeros
                result = np.zeros(x.shape, x.dtype)
                np.einsum(f"{term}->{letters}", result)[...] = full
                grads.append(result)
        return tuple(grads)

