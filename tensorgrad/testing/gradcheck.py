"""Check analytic gradients against central finite differences in float64."""
from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference one."""


def gradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4,
              seed: int = 0, full_jacobian_limit: int = 512, projections: int = 24,
              second_order: bool = False) -> bool:
    """Check the gradients of `fn(*inputs)` for every input Tensor with requires_grad=True.

    A random upstream gradient v (drawn with `seed`, never all ones) turns the output into the
    scalar phi = sum(fn(*inputs) * v). For inputs of up to `full_jacobian_limit` elements each
    element is perturbed by +-eps (the full Jacobian-vector product); larger inputs are checked
    along `projections` random directions u, comparing (phi(x + eps u) - phi(x - eps u)) / 2eps
    with <grad, u>. A value passes when |analytic - numeric| <= atol + rtol * |numeric|.

    With second_order=True the first-order gradients, computed with create_graph=True, are
    themselves checked the same way (the ops' backward must be built from tensor ops; an
    op whose backward works on ndarrays raises an error saying it is once-differentiable).

    Returns True, or raises `GradcheckError` naming the input, the worst index (or direction),
    both values and the error. Inputs must be float64: float32 differences are too coarse.
    """
    checked = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input Tensor has requires_grad=True")
    for i, t in checked:
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {t.dtype}; gradcheck needs float64 inputs "
                            "(finite differences in float32 are too coarse to be trusted)")
        if not t.data.flags.writeable:
            t.data = t.data.copy()
    rng = np.random.default_rng(seed)
    analytic, upstream = _analytic_gradients(fn, inputs, checked, rng)

    def phi() -> float:
        with no_grad():
            return float(np.sum(_output(fn, inputs).data * upstream))

    for (i, t), grad in zip(checked, analytic):
        if t.data.size <= full_jacobian_limit:
            _check_elements(phi, i, t, grad, eps, atol, rtol)
        else:
            _check_projections(phi, i, t, grad, eps, atol, rtol, rng, projections)
    if second_order:
        gradcheck(_first_order(fn, inputs, checked, upstream), *inputs, eps=eps, atol=atol,
                  rtol=rtol, seed=seed + 1, full_jacobian_limit=full_jacobian_limit,
                  projections=projections)
    return True


def _first_order(fn, inputs, checked, upstream):
    """The function inputs -> the gradients of sum(fn(inputs) * upstream), flattened and
    concatenated, recorded on the tape so gradcheck can differentiate it."""
    from .. import cat, enable_grad, grad

    positions = [i for i, _ in checked]

    def first_order(*xs):
        with enable_grad():  # gradcheck evaluates it under no_grad, but it needs the tape
            out = _output(fn, xs)
            grads = grad(out, [xs[i] for i in positions], upstream, create_graph=True)
            return cat([g.reshape(-1) for g in grads if g is not None])

    return first_order


def _output(fn, inputs) -> Tensor:
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out


def _analytic_gradients(fn, inputs, checked, rng):
    saved = [t.grad for _, t in checked]
    for _, t in checked:
        t.grad = None
    out = _output(fn, inputs)
    upstream = rng.standard_normal(out.shape)
    if out.requires_grad:
        out.backward(upstream)
    grads = [np.zeros_like(t.data) if t.grad is None else t.grad.data.copy() for _, t in checked]
    for (i, t), g, old in zip(checked, grads, saved):
        t.grad = old
        if g.shape != t.shape or g.dtype != t.dtype:
            raise GradcheckError(f"gradcheck: gradient of input {i} has shape {g.shape} and dtype "
                                 f"{g.dtype}, the input has shape {t.shape} and dtype {t.dtype}")
    return grads, upstream


def _check_elements(phi, i, t, grad, eps, atol, rtol) -> None:
    flat = t.data.reshape(-1)  # a view: perturbing it perturbs the input
    if not np.shares_memory(flat, t.data):
        t.data = t.data.copy()
        flat = t.data.reshape(-1)
    numeric = np.empty(flat.size)
    for j in range(flat.size):
        original = flat[j]
        flat[j] = original + eps
        plus = phi()
        flat[j] = original - eps
        minus = phi()
        flat[j] = original
        numeric[j] = (plus - minus) / (2 * eps)
    _report(i, t.shape, grad.reshape(-1), numeric, atol, rtol,
            lambda j: f"index {tuple(int(v) for v in np.unravel_index(j, t.shape))}")


def _check_projections(phi, i, t, grad, eps, atol, rtol, rng, projections) -> None:
    original = t.data.copy()
    numeric, analytic = np.empty(projections), np.empty(projections)
    for k in range(projections):
        u = rng.standard_normal(t.shape)
        t.data[...] = original + eps * u
        plus = phi()
        t.data[...] = original - eps * u
        minus = phi()
        numeric[k] = (plus - minus) / (2 * eps)
        analytic[k] = np.sum(grad * u)
    t.data[...] = original
    _report(i, t.shape, analytic, numeric, atol, rtol,
            lambda k: f"random direction {k} (of {projections})")


def _report(i, shape, analytic, numeric, atol, rtol, where) -> None:
    error = np.abs(analytic - numeric)
    tolerance = atol + rtol * np.abs(numeric)
    bad = ~(error <= tolerance)  # NaN counts as bad
    if bad.any():
        worst = int(np.argmax(np.where(bad, np.nan_to_num(error / tolerance, nan=np.inf), -1)))
        raise GradcheckError(
            f"gradcheck: wrong gradient for input {i} (shape {shape}) at {where(worst)}: "
            f"analytic {analytic[worst]:.10g}, numerical {numeric[worst]:.10g}, "
            f"error {error[worst]:.3g} > tolerance {tolerance[worst]:.3g} "
            f"({int(bad.sum())} of {bad.size} values out of tolerance)")
