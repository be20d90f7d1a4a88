"""The op registry and `check_op`: every primitive, ours and a user's, declares the domain of
its inputs as hypothesis strategies and gets the same battery of property checks.

    class Swish(tg.Function): ...                 # forward/backward on ndarrays
    check_op(Swish)                               # any shape, values in [-3, 3]
    check_op(MyPow, arrays(shapes(), low=0.5, high=2), params=st.fixed_dictionaries(
        {"p": st.floats(1, 3)}))

For each drawn example `check_op` runs float64 `gradcheck`, checks that float32 inputs give
a float32 output of the same shape with float32 gradients, and that running the op twice on
the same input gives identical outputs and gradients. Failures raise `GradcheckError` (or
AssertionError) naming the op.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ..autograd import Function
from ..tensor import Tensor
from .gradcheck import GradcheckError, gradcheck
from .strategies import arrays, shapes

__all__ = ["OpSpec", "register_op", "registered_ops", "check_op"]


@dataclass(frozen=True)
class OpSpec:
    """A differentiable op and its domain: a strategy of (input arrays, keyword params)."""

    name: str
    fn: object
    domain: object

    def __call__(self, *tensors, **params):
        return self.fn(*tensors, **params)


_REGISTRY: dict = {}


def _n_inputs(op) -> int:
    forward = op.forward if isinstance(op, type) and issubclass(op, Function) else op
    parameters = list(inspect.signature(forward).parameters.values())
    if isinstance(op, type):
        parameters = parameters[1:]  # ctx
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
               for p in parameters)


def make_spec(op, *inputs, params=None, domain=None, name=None) -> OpSpec:
    """Describe `op` (a Function subclass or a function of Tensors) for `check_op`.

    inputs: one strategy of float64 ndarrays per positional input (default: any shape, values
    in [-3, 3]); params: a strategy of keyword-argument dicts (default: none); domain: instead
    of both, one strategy of (tuple of arrays, dict), for inputs whose shapes depend on each
    other (broadcasting pairs, matmul, conv geometries)."""
    fn = op.apply if isinstance(op, type) and issubclass(op, Function) else op
    name = name or getattr(op, "__name__", repr(op))
    if domain is None:
        if not inputs:
            inputs = tuple(arrays(shapes()) for _ in range(_n_inputs(op)))
        domain = st.tuples(st.tuples(*inputs), params if params is not None else st.just({}))
    elif inputs or params is not None:
        raise ValueError(f"make_spec({name}): give either domain or inputs/params, not both")
    return OpSpec(name, fn, domain)


def register_op(op, *inputs, params=None, domain=None, name=None) -> OpSpec:
    """Add an op to the registry that the test suite enumerates (see `make_spec`)."""
    spec = make_spec(op, *inputs, params=params, domain=domain, name=name)
    _REGISTRY[spec.name] = spec
    return spec


def registered_ops() -> list:
    """Every registered OpSpec (`tensorgrad.testing.builtin_ops.register_builtin_ops()` adds
    tensorgrad's own primitives)."""
    return list(_REGISTRY.values())


def check_op(op, *inputs, params=None, domain=None, name=None, max_examples=None) -> None:
    """Run the property checks on `op` over its domain (see the module docstring). `op` may be
    an OpSpec, a Function subclass or a function of Tensors; use it inside your own pytest
    suite. `max_examples` overrides the active hypothesis profile's count."""
    spec = op if isinstance(op, OpSpec) else make_spec(op, *inputs, params=params, domain=domain,
                                                      name=name)
    test = given(spec.domain)(lambda example: _check_example(spec, *example))
    if max_examples is not None:
        from hypothesis import settings
        test = settings(max_examples=max_examples)(test)
    test()


def _run(spec, arrays_, params, dtype):
    tensors = [Tensor(np.array(a, dtype=dtype), requires_grad=True) for a in arrays_]
    out = spec(*tensors, **params)
    upstream = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    out.backward(upstream)
    return out, tensors


def _check_example(spec, arrays_, params) -> None:
    arrays_ = [np.asarray(a, dtype=np.float64) for a in arrays_]
    try:
        gradcheck(lambda *t: spec(*t, **params),
                  *[Tensor(a.copy(), requires_grad=True) for a in arrays_])
    except GradcheckError as e:
        raise GradcheckError(f"check_op({spec.name}) with params {params}: {e}") from None
    out64, leaves64 = _run(spec, arrays_, params, np.float64)
    out32, leaves32 = _run(spec, arrays_, params, np.float32)
    problems = []
    if out32.dtype != np.float32:
        problems.append(f"float32 inputs gave a {out32.dtype} output")
    if out32.shape != out64.shape:
        problems.append(f"float32 output shape {out32.shape} != float64 output shape {out64.shape}")
    for i, leaf in enumerate(leaves32):
        if leaf.grad is not None and (leaf.grad.dtype != np.float32 or leaf.grad.shape != leaf.shape):
            problems.append(f"input {i}: float32 gradient expected, got {leaf.grad.dtype} "
                            f"{leaf.grad.shape}")
    again, leaves_again = _run(spec, arrays_, params, np.float64)
    if not np.array_equal(out64.data, again.data, equal_nan=True):
        problems.append("two runs on the same input gave different outputs")
    for i, (a, b) in enumerate(zip(leaves64, leaves_again)):
        if (a.grad is None) != (b.grad is None) or (
                a.grad is not None and not np.array_equal(a.grad.data, b.grad.data, equal_nan=True)):
            problems.append(f"two runs on the same input gave different gradients for input {i}")
    if problems:
        shapes_ = [a.shape for a in arrays_]
        raise AssertionError(f"check_op({spec.name}) on inputs of shapes {shapes_} with params "
                             f"{params}: " + "; ".join(problems))
