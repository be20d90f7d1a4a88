"""`detect_anomaly`: stop at the first NaN or inf, naming the op and where the user created it."""
from __future__ import annotations

import contextlib
import os
import traceback

import numpy as np

from . import autograd

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_frames() -> list:
    """The current call stack without tensorgrad's own frames (innermost last)."""
    return [f for f in traceback.extract_stack()[:-1]
            if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]


def _describe(frames) -> str:
    if not frames:
        return "(no user frame recorded)"
    lines = traceback.format_list(frames[-4:])
    return "".join(lines).rstrip()


def _non_finite(array: np.ndarray) -> str | None:
    """None if every element is finite, else a short description of the bad values."""
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    n_nan, n_inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
    kinds = " and ".join(k for k, n in (("nan", n_nan), ("inf", n_inf)) if n)
    return f"{kinds} ({n_nan + n_inf} of {array.size} values, shape {array.shape})"


class detect_anomaly(contextlib.ContextDecorator):
    """Check every forward output and every backward gradient for NaN/inf and raise
    `FloatingPointError` at the first one, naming the op and the user's line that created it.

        with tg.detect_anomaly():
            loss = model(x).log().mean()
            loss.backward()

    Slower than normal execution (it records a stack trace per op): use it to debug.
    """

    def __enter__(self):
        autograd.monitors.append(self)
        return self

    def __exit__(self, *exc_info):
        autograd.monitors.remove(self)
        return False

    def forward(self, fn, ctx, out, seconds) -> None:
        frames = _user_frames()
        if isinstance(ctx, autograd.Context):
            ctx.creation_frames = frames
        bad = _non_finite(out)
        if bad:
            raise FloatingPointError(f"detect_anomaly: {fn.__name__} produced {bad} in its forward "
                                     f"pass, called from:\n{_describe(frames)}")

    def backward(self, ctx, grads, seconds) -> None:
        for i, g in enumerate(grads):
            bad = None if g is None else _non_finite(np.asarray(g))
            if bad:
                frames = getattr(ctx, "creation_frames", None)
                raise FloatingPointError(
                    f"detect_anomaly: {ctx.fn.__name__}.backward produced {bad} in the gradient "
                    f"of input {i}; the {ctx.fn.__name__} was created at:\n{_describe(frames)}")
