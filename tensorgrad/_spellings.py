"""PyTorch's argument names beside NumPy's: ``dim=`` for ``axis=``, ``keepdim=`` for
``keepdims=``, ``start_dim=``/``end_dim=`` for ``start_axis=``/``end_axis=``.

`torch_names` wraps a function whose parameters have the NumPy names so that it also takes
the PyTorch ones; giving both spellings of one argument is an error naming the function.
"""
from __future__ import annotations

import functools
import inspect

TORCH_TO_NUMPY = {"dim": "axis", "keepdim": "keepdims", "start_dim": "start_axis",
                  "end_dim": "end_axis"}


def both_given(op: str, numpy_name: str, torch_name: str) -> TypeError:
    """The error for an argument given in both spellings."""
    return TypeError(f"{op}: got both {numpy_name}= and {torch_name}= (NumPy's and PyTorch's "
                     "name for the same argument); give one")


def torch_names(fn):
    """Make fn accept PyTorch's names for the NumPy-named parameters it has."""
    params = inspect.signature(fn).parameters
    aliases = {t: n for t, n in TORCH_TO_NUMPY.items() if n in params and t not in params}
    op = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs:
            for torch_name, numpy_name in aliases.items():
                if torch_name in kwargs:
                    if numpy_name in kwargs:
                        raise both_given(op, numpy_name, torch_name)
                    kwargs[numpy_name] = kwargs.pop(torch_name)
        return fn(*args, **kwargs)
    wrapper.__doc__ = (fn.__doc__ or "").rstrip() + (
        "\n\nPyTorch's names are accepted too: " + ", ".join(f"{t}= for {n}=" for t, n in aliases.items())
        + "." if aliases else "")
    return wrapper
