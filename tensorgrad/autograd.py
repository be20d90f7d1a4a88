"""The tape: `Function` (the one way every primitive op is written), grad mode, and the
backward engine.

A primitive is a subclass of `Function` with two static methods working on ndarrays::

    class Square(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    y = Square.apply(t)

`apply` unwraps Tensor arguments to their ndarrays, runs `forward`, and, when gradients are
being recorded, links the output Tensor to its inputs through a `Context` (the tape node).
`Tensor.backward()` walks those nodes in reverse topological order (iteratively, so graphs of
any depth work), calls each primitive's `backward`, checks what it returns, and accumulates the
gradients.
"""
from __future__ import annotations

import contextlib
import threading
import time

import numpy as np

__all__ = ["Function", "Context", "no_grad", "enable_grad", "is_grad_enabled", "backward"]


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether operations are currently recorded on the tape."""
    return _grad_mode.enabled


class _SetGradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets grad mode and restores it on exit."""

    _mode: bool

    def __enter__(self):
        self._previous = _grad_mode.enabled
        _grad_mode.enabled = self._mode
        return self

    def __exit__(self, *exc_info):
        _grad_mode.enabled = self._previous
        return False


class no_grad(_SetGradMode):
    """Disable recording: ``with tg.no_grad(): ...`` or ``@tg.no_grad()``."""

    _mode = False


class enable_grad(_SetGradMode):
    """Re-enable recording inside a `no_grad` block (context manager or decorator)."""

    _mode = True


class Context:
    """The tape node of one primitive call: what its `backward` needs.

    `forward` stores arrays with `save_for_backward(*arrays)` and any other value as an
    attribute (``ctx.beta = beta``); `backward` reads them back through `saved_tensors`.
    `needs_input_grad[i]` tells whether the i-th positional input wants a gradient.

    Saved arrays (and the arrays they are views of) are read-only until the node is released,
    so an in-place change that would silently corrupt the gradient raises instead.
    """

    __slots__ = ("fn", "inputs", "needs_input_grad", "_saved", "_locked", "_freed", "__dict__",
                 "__weakref__")

    def __init__(self, fn, inputs, needs_input_grad):
        self.fn = fn
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._locked = ()
        self._freed = False

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays (or None) for `backward`; they stay read-only until then."""
        _unlock(self._locked)
        self._saved = arrays
        self._locked = _lock(arrays)

    @property
    def saved_tensors(self) -> tuple:
        """The arrays given to `save_for_backward`, in the same order."""
        if self._freed:
            raise RuntimeError(_freed_message(self.fn.__name__))
        return self._saved

    def release(self) -> None:
        """Drop the saved arrays and the links to the inputs (after backward)."""
        _unlock(self._locked)
        self._locked = self._saved = self.inputs = ()
        self.__dict__.clear()
        self._freed = True

    def __del__(self):
        _unlock(self._locked)


# How many live tape nodes hold each array read-only, by id (the nodes keep the arrays alive).
_lock_counts: dict = {}


def _lock(arrays) -> tuple:
    """Make arrays, and the arrays they view, read-only; returns those this call locked."""
    locked = []
    for a in arrays:
        while isinstance(a, np.ndarray):
            count = _lock_counts.get(id(a))
            if count is not None:
                _lock_counts[id(a)] = count + 1
                locked.append(a)
            elif a.flags.writeable:
                a.flags.writeable = False
                _lock_counts[id(a)] = 1
                locked.append(a)
            a = a.base
    return tuple(locked)


def _unlock(locked) -> None:
    """Undo `_lock`, bases first; an array another node still holds stays read-only."""
    for a in reversed(locked):
        count = _lock_counts.pop(id(a)) - 1
        if count:
            _lock_counts[id(a)] = count
        else:
            try:
                a.flags.writeable = True
            except ValueError:  # a view of an array some other node still holds
                pass


def _freed_message(name: str) -> str:
    return (f"{name}: trying to backward through the graph a second time: its saved arrays "
            "were freed after the first backward(). Call backward(retain_graph=True) the first "
            "time if you need to go through the graph again.")


class Function:
    """Base class of every primitive op, ours and users'.

    Subclasses define ``forward(ctx, *arrays, **params) -> ndarray`` and
    ``backward(ctx, grad) -> gradient or tuple of gradients`` (one per positional input, None
    where no gradient is needed) and are called as ``MyOp.apply(*inputs, **params)``.
    Positional Tensor inputs are differentiable; anything else (arrays, numbers) is passed to
    `forward` unchanged and gets no gradient.
    """

    @staticmethod
    def forward(ctx: Context, *args, **params):
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        arrays, needs, record = [], [], False
        for t in inputs:
            if isinstance(t, Tensor):
                arrays.append(t.data)
                needs.append(t._requires_grad)
                record = record or t._requires_grad
            else:
                arrays.append(t)
                needs.append(False)
        if not (record and _grad_mode.enabled):
            return Tensor._wrap(_forward(cls, _NULL_CONTEXT, arrays, params))
        ctx = Context(cls, inputs, tuple(needs))
        out = _forward(cls, ctx, arrays, params)
        if out.dtype.kind not in "fc":
            return Tensor._wrap(out)
        return Tensor._wrap(out, ctx)


class _NullContext:
    """The context `forward` gets when nothing is recorded: saving is a no-op."""

    needs_input_grad = ()

    def save_for_backward(self, *arrays) -> None:
        pass


_NULL_CONTEXT = _NullContext()


# Active monitors (tg.detect_anomaly, tg.profile): objects with forward(fn, ctx, out, seconds)
# and backward(ctx, grads, seconds) methods, called around every primitive while registered.
monitors: list = []


def _forward(fn, ctx, arrays, params) -> np.ndarray:
    if not monitors:
        return _check_output(fn, fn.forward(ctx, *arrays, **params))
    start = time.perf_counter()
    out = _check_output(fn, fn.forward(ctx, *arrays, **params))
    seconds = time.perf_counter() - start
    for monitor in monitors:
        monitor.forward(fn, ctx, out, seconds)
    return out


def _backward(ctx, grad) -> tuple:
    if not monitors:
        return _as_gradients(ctx, ctx.fn.backward(ctx, grad))
    start = time.perf_counter()
    grads = _as_gradients(ctx, ctx.fn.backward(ctx, grad))
    seconds = time.perf_counter() - start
    for monitor in monitors:
        monitor.backward(ctx, grads, seconds)
    return grads


def _check_output(fn, out) -> np.ndarray:
    if isinstance(out, np.ndarray):
        return out
    if isinstance(out, (np.generic, int, float, bool, complex)):
        return np.asarray(out)
    raise TypeError(f"{fn.__name__}.forward must return one ndarray, got {type(out).__name__}")


def _topological_order(root) -> list:
    """Nodes (Tensors with a `_ctx`) reachable from root, each after every node that uses it."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx._freed:
            raise RuntimeError(_freed_message(ctx.fn.__name__))
        for parent in ctx.inputs:
            if getattr(parent, "_ctx", None) is not None and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def _as_gradients(ctx: Context, grads) -> tuple:
    """Normalise what `backward` returned to a tuple with one entry per input, and check it."""
    if not isinstance(grads, tuple):
        grads = (grads,)
    name = ctx.fn.__name__
    if len(grads) != len(ctx.inputs):
        raise RuntimeError(f"{name}.backward returned {len(grads)} gradients for "
                           f"{len(ctx.inputs)} inputs")
    for i, (g, t, needed) in enumerate(zip(grads, ctx.inputs, ctx.needs_input_grad)):
        if g is None or not needed:
            continue
        shape = getattr(g, "shape", None)
        if shape != t.shape:
            raise RuntimeError(f"{name}.backward returned a gradient of shape {shape} for "
                               f"input {i} of shape {t.shape}")
        if g.dtype != t.dtype:
            raise RuntimeError(f"{name}.backward returned a {g.dtype} gradient for input {i} "
                               f"of dtype {t.dtype} (shape {t.shape})")
    return grads


def backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) . grad into the `.grad` of every leaf that requires grad."""
    if root._ctx is None:
        _accumulate_leaf(root, grad)
        return
    grads = {id(root): grad}
    with no_grad():
        for node in _topological_order(root):
            _backward_node(node, grads, retain_graph)


def _backward_node(node, grads: dict, retain_graph: bool) -> None:
    """Run one node's backward and route its input gradients: to leaves' .grad, or into
    `grads` (by id) for the nodes still to come."""
    g = grads.pop(id(node), None)
    ctx = node._ctx
    if g is not None:
        if node._hooks:
            g = node._run_hooks(g)
        if node._retains_grad:
            _accumulate_leaf(node, g)
        input_grads = _backward(ctx, g)
        for parent, pg, needed in zip(ctx.inputs, input_grads, ctx.needs_input_grad):
            if pg is None or not needed:
                continue
            if parent._ctx is None:
                _accumulate_leaf(parent, parent._run_hooks(pg) if parent._hooks else pg)
            else:
                key = id(parent)
                grads[key] = grads[key] + pg if key in grads else pg
    if not retain_graph:
        ctx.release()


def _accumulate_leaf(leaf, g: np.ndarray) -> None:
    if leaf.grad is None:
        leaf.grad = Tensor(np.array(g, copy=True))
    else:
        leaf.grad = Tensor(leaf.grad.data + g)


Tensor = None  # the Tensor class, set by tensor.py when it is defined (it imports this module)
