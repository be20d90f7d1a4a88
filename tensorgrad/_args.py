"""Argument checking shared by every op: sizes and shapes, axes, and int-or-pair parameters.

Each function returns its argument in one canonical form (Python ints in a tuple) or raises
an error that names the op and the argument: TypeError for the wrong kind of value (a float,
a string or a bool where an int belongs), ValueError for the wrong value (a negative size,
an axis out of range).
"""
from __future__ import annotations

import operator

import numpy as np

# No array has more elements (or bytes) than a pointer can count.
_MAX_SIZE = np.iinfo(np.intp).max


def integer(value, name: str, op: str) -> int:
    """value as a Python int: an int or a NumPy integer (not a bool, a float or a string)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be an int, got the bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} "
                        f"{value!r}") from None


def _unpack(args) -> tuple:
    """The values of f(2, 3) and of f((2, 3)) alike: the tuple of a call's *args."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def integers(args, name: str, op: str) -> tuple:
    """The ints of f(a, b, ...) or f((a, b, ...)), any sign (e.g. the axes of a permute)."""
    return tuple(integer(v, name, op) for v in _unpack(args))


def shape(args, op: str, *, unknown: int = 0) -> tuple:
    """The sizes of f(2, 3) or f((2, 3)) as a tuple of ints, each >= 0, except that up to
    `unknown` of them may be -1 (reshape: one size inferred; expand: sizes kept). The
    element count must be one an array can have."""
    sizes = integers(args, "a size", op)
    if any(s < (-1 if unknown else 0) for s in sizes):
        raise ValueError(f"{op}: sizes must be non-negative{' (or -1)' if unknown else ''}, "
                         f"got shape {sizes}")
    if sizes.count(-1) > unknown:
        allowed = "only one size" if unknown == 1 else f"at most {unknown} sizes"
        raise ValueError(f"{op}: {allowed} can be -1, got shape {sizes}")
    if int(np.prod([s for s in sizes if s != -1], dtype=object)) > _MAX_SIZE:
        raise ValueError(f"{op}: shape {sizes} has more elements than an array can hold")
    return sizes


def axes(axis, ndim: int, op: str) -> tuple:
    """`axis` (None, an int or a sequence of ints, negatives allowed) as a sorted tuple of
    non-negative axes; a clear error names the op when an axis is not an int, is out of
    range or is repeated."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list, range)) or (isinstance(axis, np.ndarray) and axis.ndim):
        given = tuple(integer(a, "axis", op) for a in axis)
    else:
        given = (integer(axis, "axis", op),)
    bound = max(ndim, 1)  # a 0-d tensor accepts axis 0 or -1, as in PyTorch
    for a in given:
        if not -bound <= a < bound:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
    result = sorted({a % bound for a in given})
    if len(result) != len(given):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(result) if ndim else ()


def axis(value, ndim: int, op: str) -> int:
    """One axis (an int, negatives allowed) as a non-negative int, checked like `axes`."""
    if isinstance(value, (tuple, list)) or value is None:
        raise TypeError(f"{op}: axis must be an int, got {value!r}")
    found = axes(value, ndim, op)
    return found[0] if found else 0


def pair(value, name: str, op: str, minimum: int, *, none: bool = False) -> tuple:
    """An int or an (h, w) pair of ints, each >= minimum, as an (h, w) tuple; with none=True
    an entry may also be None (kept). Errors name op and the argument."""
    values = (value, value) if value is None or not isinstance(value, (tuple, list)) else value
    if not (len(values) == 2 and all(
            (none and v is None) or (isinstance(v, (int, np.integer))
                                     and not isinstance(v, (bool, np.bool_))) for v in values)):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v is not None and v < minimum for v in values):
        kind = "positive" if minimum > 0 else "non-negative"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return tuple(None if v is None else int(v) for v in values)
