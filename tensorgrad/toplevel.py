"""Top-level functions mirroring Tensor methods, as PyTorch has them: ``tg.exp(x)`` is
``x.exp()``, ``tg.max(x, 1)`` is ``x.max(1)``, ``tg.sum(x, dim=0)`` is ``x.sum(dim=0)``.

They are generated from the method names in `MIRRORED` (one definition: the method), so a
function and its method never differ. Plus the few that are not methods: `einsum`,
`allclose`, `equal`, `is_tensor`. Names that shadow Python builtins (max, min, sum, abs,
all, any, pow) are attributes of tensorgrad but kept out of ``from tensorgrad import *``.
"""
from __future__ import annotations

import builtins

import numpy as np

from .ops.linalg import Einsum
from .tensor import Tensor, as_array

MIRRORED = (
    "abs exp log sqrt sin cos neg sigmoid tanh relu pow clamp clip clamp_min clamp_max "
    "maximum minimum matmul masked_fill sum mean max min amax amin var std norm logsumexp "
    "softmax log_softmax argmax argmin any all median sort argsort topk reshape flatten "
    "squeeze unsqueeze transpose permute t gather scatter scatter_add chunk split numel "
    "eq ne lt le gt ge"
).split()

BUILTIN_NAMES = tuple(n for n in MIRRORED if hasattr(builtins, n))


def _as_tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(as_array(value))


def _mirror(name: str):
    method = getattr(Tensor, name)

    def function(input, *args, **kwargs):
        return getattr(_as_tensor(input), name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"tg.{name}(x, ...) is x.{name}(...).\n\n" + (method.__doc__ or "")
    return function


globals().update({name: _mirror(name) for name in MIRRORED})


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum('ij,jk->ik', a, b)`` or
    ``einsum('ij,jk->ik', [a, b])``; differentiable in every operand. Letters name the axes
    ('...' is not supported)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    return Einsum.apply(*(_as_tensor(o) for o in operands), equation=equation)


def allclose(a, b, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether every element of a is close to b's: |a - b| <= atol + rtol * |b|."""
    return bool(np.allclose(_as_tensor(a).data, _as_tensor(b).data, rtol, atol, equal_nan))


def equal(a, b) -> bool:
    """Whether a and b have the same shape and the same elements."""
    a, b = _as_tensor(a).data, _as_tensor(b).data
    return a.shape == b.shape and bool((a == b).all())


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


__all__ = [n for n in MIRRORED if n not in BUILTIN_NAMES] + ["einsum", "allclose", "equal",
                                                               "is_tensor"]
