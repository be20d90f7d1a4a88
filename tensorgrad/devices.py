"""Devices: where a tensor's memory lives. Only "cpu" exists today (NumPy arrays).

``tg.device("cpu")``, ``x.device``, ``x.to("cpu")``, ``Module.to(device)`` and the ``device=``
argument of creation functions take a `device` or its string ("cpu", "cuda", "cuda:1",
"mps"). Every one of them goes through `resolve`, the single place that turns the argument
into an available device, so a CuPy-backed "cuda" device is added by registering it in
`_AVAILABLE` (with the array module its tensors use) without changing user code. A device
that is not available is a clear error naming it.
"""
from __future__ import annotations

import re

# device types PyTorch knows and tensorgrad may one day back; "cpu" is the only available one
KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")
_AVAILABLE = {"cpu"}


class device:
    """A device description, as ``torch.device``: ``device("cpu")``, ``device("cuda:0")``,
    ``device("cuda", 1)``. Making one for a device that is not available is allowed (as in
    PyTorch); moving a tensor there raises."""

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a device string such as 'cpu' or 'cuda:0', got "
                            f"{type!r}")
        match = re.fullmatch(r"([a-z]+)(?::(\d+))?", type.strip())
        if match is None or match.group(1) not in KNOWN_TYPES:
            raise ValueError(f"device: unknown device {type!r}; expected one of "
                             f"{', '.join(KNOWN_TYPES)}, optionally with ':index'")
        if match.group(2) is not None:
            if index is not None:
                raise ValueError(f"device: the index is given twice ({type!r} and {index})")
            index = int(match.group(2))
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device: the index must be a non-negative int, got {index!r}")
        self.type, self.index = match.group(1), index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (TypeError, ValueError):
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def is_device(value) -> bool:
    """Whether value names a device (a `device`, or a string such as "cpu" or "cuda:0")
    rather than a dtype: how ``x.to(...)`` tells its arguments apart."""
    if isinstance(value, device):
        return True
    return isinstance(value, str) and re.fullmatch(r"([a-z]+)(:\d+)?", value) is not None and \
        value.split(":")[0] in KNOWN_TYPES


def resolve(spec, op: str) -> device:
    """The available device that spec (a `device`, a string, or None for the default)
    names; an unavailable one is a clear error naming it and the op."""
    if spec is None:
        return CPU
    wanted = device(spec)
    if wanted.type not in _AVAILABLE:
        raise RuntimeError(f"{op}: device '{wanted}' is not available: tensorgrad runs on the "
                           "CPU (NumPy) only; use 'cpu' (tg.cuda.is_available() is False)")
    return CPU


def to_arguments(args: tuple, dtype, device_arg, op: str):
    """The dtype (or None) that ``to(*args, dtype=, device=)`` asks for, after checking that
    the device it names is available. args may hold a device, a dtype, None (ignored) and
    a tensor (its device and dtype), in any order, as PyTorch's ``to`` takes them."""
    for arg in args:
        if arg is None:
            continue
        if is_device(arg):
            if device_arg is not None:
                raise TypeError(f"{op}: the device is given twice ({device_arg!r} and {arg!r})")
            device_arg = arg
        elif isinstance(getattr(arg, "device", None), device):  # a tensor
            device_arg, dtype = (arg.device if device_arg is None else device_arg,
                                 arg.dtype if dtype is None else dtype)
        elif dtype is not None:
            raise TypeError(f"{op}: the dtype is given twice ({dtype!r} and {arg!r})")
        else:
            dtype = arg
    resolve(device_arg, op)
    return dtype
