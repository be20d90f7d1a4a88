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
import itertools
import threading
import time
import weakref

import numpy as np

__all__ = ["Function", "Context", "no_grad", "enable_grad", "is_grad_enabled", "backward", "grad",
           "increment_version", "queue_callback"]


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
    `is_recording` is True: `forward` is being recorded and `backward` will follow, so it
    should save what backward needs (when nothing is recorded, e.g. under `tg.no_grad()`,
    `forward` gets a context whose `is_recording` is False and whose saving is a no-op, and
    can take a faster path that keeps nothing).

    The node also remembers the version of every input (and of the output) whose memory a
    saved array shares; `saved_tensors` raises, naming the op, when one of them was changed by
    an in-place operation since (PyTorch's rule), instead of computing a wrong gradient.
    """

    __slots__ = ("fn", "inputs", "needs_input_grad", "seq", "_saved", "_versions", "_freed",
                 "__dict__", "__weakref__")

    is_recording = True

    def __init__(self, fn, inputs, needs_input_grad):
        self.fn = fn
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad
        self.seq = next(_clock)  # when it was recorded, for `recorded_inputs`
        self._saved = self._versions = ()
        self._freed = False

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays (or None) for `backward`."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        """The arrays given to `save_for_backward`, in the same order (as Tensors inside the
        backward of a `differentiable_backward` op: the op's own input or output Tensor where
        the array is its data, so the gradient stays connected to the graph)."""
        if self._freed:
            raise RuntimeError(_freed_message(self.fn.__name__))
        for which, counter, version, shape, dtype in self._versions:
            if counter.value != version:
                raise RuntimeError(_modified_message(self.fn.__name__, which, counter.value,
                                                     version, shape, dtype))
        graph = self.__dict__.get("_graph")
        if graph is None:
            return self._saved
        return tuple(graph.get(id(a), Tensor(a)) if isinstance(a, (np.ndarray, np.generic)) else a
                     for a in self._saved)

    def release(self) -> None:
        """Drop the saved arrays and the links to the inputs (after backward)."""
        self._saved = self._versions = self.inputs = ()
        self.__dict__.clear()
        self._freed = True


# Recording order: every Context and every move of a tensor to a new node takes the next tick.
_clock = itertools.count()
_last_move = -1            # the tick of the latest `move_to_new_node`, of any tensor
_move_lock = threading.Lock()


def move_to_new_node(t, previous, ctx) -> None:
    """Make ctx (an in-place op recorded on the tape) the node of tensor t; `previous`, a
    Tensor holding t's former node, stands for t in the nodes recorded before, which
    `recorded_inputs` gives back. This is how an in-place op on a tensor in a graph keeps
    every gradient right. The history holds `previous` weakly: ctx (one of its inputs) keeps
    it alive as long as a graph that needs it, so a long-lived tensor changed in place in a
    loop does not accumulate them."""
    global _last_move
    with _move_lock:
        tick = next(_clock)
        previous._history = t._history
        t._history = (tick, weakref.ref(previous))
        t._ctx, t._requires_grad = ctx, True
        _last_move = tick


def recorded_inputs(ctx) -> tuple:
    """ctx's inputs as they were when ctx was recorded: a tensor changed in place since is
    replaced by the Tensor that holds its node of that time."""
    if ctx.seq > _last_move:  # nothing was moved since ctx was recorded
        return ctx.inputs
    return tuple(_as_of(t, ctx) for t in ctx.inputs)


def _as_of(t, ctx):
    history = getattr(t, "_history", None)
    while history is not None and history[0] > ctx.seq:
        t = history[1]()
        if t is None:  # the graph through the old value was freed by a backward()
            raise RuntimeError(_freed_message(ctx.fn.__name__))
        history = t._history
    return t


def _root(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory `array` views (array itself if it owns it)."""
    base = array.base
    while isinstance(base, np.ndarray):
        array, base = base, base.base
    return array


def _record_versions(ctx: Context, out) -> None:
    """Remember the version of each input, and of the output, whose memory a saved array
    shares, so that `saved_tensors` can tell when an in-place op changed it. (Runs for every
    recorded op that saves arrays: memory is compared by the id of the array owning it, with
    no call for an array that owns its memory.)"""
    roots = set()
    for a in ctx._saved:
        if isinstance(a, np.ndarray):
            roots.add(id(a) if a.base is None else id(_root(a)))
    if not roots:
        return
    versions = []
    for which, t in (*enumerate(ctx.inputs), (-1, out)):
        if isinstance(t, Tensor):
            data = t.data
            if (id(data) if data.base is None else id(_root(data))) in roots:
                counter = t._version_counter
                versions.append((which, counter, counter.value, data.shape, data.dtype))
    ctx._versions = tuple(versions)


def _shared_counter(out: np.ndarray, inputs):
    """The version counter of the input Tensor whose memory `out` views, or None: a view
    shares its base's counter (as in PyTorch), so an in-place change through either is seen
    by every node that saved the other."""
    if out.base is None:  # owns its memory: shared only if it is an input's own array
        for t in inputs:
            if isinstance(t, Tensor) and t.data is out:
                t._version_counter.shared = True
                return t._version_counter
        return None
    root = _root(out)
    for t in inputs:
        if isinstance(t, Tensor) and _root(t.data) is root:
            t._version_counter.shared = True
            return t._version_counter
    return None


def _modified_message(name: str, which: int, now: int, expected: int, shape, dtype) -> str:
    what = "its output" if which == -1 else f"input {which}"
    return (f"{name}: one of the arrays it saved for backward ({what}, {dtype} of shape "
            f"{shape}) has been modified by an in-place operation: it is at version {now}; "
            f"expected version {expected}. Compute the gradient before changing it, or change "
            "a copy (an out-of-place operation) instead.")


def increment_version(tensor) -> None:
    """Record that tensor's memory was changed in place by a NumPy write into ``tensor.data``
    (tensorgrad's own in-place ops do this themselves), so that backward refuses a graph that
    saved the old values. PyTorch's ``torch.autograd.graph.increment_version``."""
    tensor._version_counter.value += 1


class VersionCounter:
    """How many times a tensor's memory was changed in place; one object is shared by a
    tensor and its views (`shared` then tells that the memory has several tensors)."""

    __slots__ = ("value", "shared")

    def __init__(self):
        self.value, self.shared = 0, False


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

    Inference: when nothing is recorded (`tg.no_grad()`, or no input requires grad),
    `forward` gets a context whose ``ctx.is_recording`` is False, whose `save_for_backward`
    does nothing and whose `needs_input_grad` is empty; no backward will follow, so an op
    may then take a path that keeps nothing (conv2d works through blocks of images).
    While recording, ``ctx.is_recording`` is True.

    `backward` normally works on ndarrays, which makes the op once-differentiable: a second
    derivative through it (`backward(create_graph=True)`, then differentiating the gradient)
    raises an error naming it. Set ``differentiable_backward = True`` when `backward` is
    written only with operations that ndarrays and Tensors share (arithmetic operators, `@`,
    `reshape`, `sum(axis, keepdims)`, comparisons): under create_graph it is then called with
    Tensors (`grad`, and `ctx.saved_tensors` mapped back to the op's input and output Tensors)
    and recorded on the tape, so higher derivatives work; otherwise it still runs on ndarrays
    at full speed.
    """

    differentiable_backward = False

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
            out = _forward(cls, _NULL_CONTEXT, arrays, params)
            return Tensor._wrap(out, None, _shared_counter(out, inputs))
        ctx = Context(cls, inputs, tuple(needs))
        out = _forward(cls, ctx, arrays, params)
        if out.dtype.kind != "f":
            if out.dtype.kind == "c":
                raise TypeError(f"{cls.__name__}: a complex result ({out.dtype}, shape "
                                f"{out.shape}) cannot be recorded for gradients: tensorgrad has "
                                "no complex autograd (compute it under tg.no_grad(), or keep "
                                "real and imaginary parts as two float tensors)")
            return Tensor._wrap(out, None, _shared_counter(out, inputs))
        result = Tensor._wrap(out, ctx, _shared_counter(out, inputs))
        if ctx._saved:
            _record_versions(ctx, result)
        return result


class _NullContext:
    """The context `forward` gets when nothing is recorded: saving is a no-op."""

    is_recording = False
    needs_input_grad = ()

    def save_for_backward(self, *arrays) -> None:
        pass


_NULL_CONTEXT = _NullContext()


# Active monitors (tg.detect_anomaly, tg.profile): objects with forward(fn, ctx, out, seconds)
# and backward(ctx, grads, seconds) methods, called around every primitive while registered.
monitors: list = []


def _forward(fn, ctx, arrays, params) -> np.ndarray:
    if not monitors:
        return _check_output(fn, ctx, fn.forward(ctx, *arrays, **params))
    start = time.perf_counter()
    out = _check_output(fn, ctx, fn.forward(ctx, *arrays, **params))
    seconds = time.perf_counter() - start
    for monitor in monitors:
        monitor.forward(fn, ctx, out, seconds)
    return out


def _backward(ctx, grad, node, create_graph: bool) -> tuple:
    """Call the op's backward (timed for the monitors): on ndarrays, or on Tensors and
    recorded when create_graph is set."""
    start = time.perf_counter() if monitors else 0.0
    if create_graph:
        grads = _recorded_backward(ctx, grad, node)
    else:
        grads = _as_gradients(ctx, ctx.fn.backward(ctx, grad))
    if monitors:
        seconds = time.perf_counter() - start
        for monitor in monitors:
            monitor.backward(ctx, grads, seconds)
    return grads


def _recorded_backward(ctx, grad, node) -> tuple:
    """Backward under create_graph: a `differentiable_backward` op runs on Tensors, its saved
    arrays mapped back to its input and output Tensors; any other op's ndarray gradients are
    wrapped so that differentiating them again raises a clear error."""
    if not ctx.fn.differentiable_backward:
        grads = _as_gradients(ctx, ctx.fn.backward(ctx, grad.data))
        return tuple(None if g is None else _OnceDifferentiable.apply(grad, *recorded_inputs(ctx), value=g, op=ctx.fn)
                     for g in grads)
    ctx._graph = {id(t.data): t for t in recorded_inputs(ctx) if isinstance(t, Tensor)}
    ctx._graph[id(node.data)] = node
    if "output_id" in ctx.__dict__:
        ctx._graph[ctx.output_id] = node
    try:
        return _as_gradients(ctx, ctx.fn.backward(ctx, grad))
    finally:
        del ctx._graph


class _OnceDifferentiable(Function):
    """The gradient computed by an ndarray backward under create_graph=True: a value that
    depends on the upstream gradient and the op's inputs, but has no derivative of its own."""

    @staticmethod
    def forward(ctx, *arrays, value, op):
        ctx.op = op
        return value

    @staticmethod
    def backward(ctx, grad):
        name = ctx.op.__name__
        raise RuntimeError(f"{name} is once-differentiable: its backward works on ndarrays, so "
                           f"the gradient it computed cannot be differentiated again. Give {name} "
                           "a backward written with tensor ops (differentiable_backward = True) "
                           "for higher derivatives.")


def _check_output(fn, ctx, out) -> np.ndarray:
    """forward's result as an ndarray. NumPy gives scalars for 0-d results; the node remembers
    the scalar's id (`output_id`), since forward may have saved that very object as its
    output."""
    if isinstance(out, np.ndarray):
        return out
    if isinstance(out, (np.generic, int, float, bool, complex)):
        if isinstance(ctx, Context):
            ctx.output_id = id(out)
        return np.asarray(out)
    raise TypeError(f"{fn.__name__}.forward must return one ndarray, got {type(out).__name__}")


def _topological_order(root) -> list:
    """Nodes (Tensors with a `_ctx`) reachable from root, each before every node it uses:
    an iterative depth-first search, so graphs of any depth work."""
    order, visited = [], {id(root)}
    _check_alive(root._ctx)
    stack = [(root, iter(recorded_inputs(root._ctx)))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            ctx = getattr(parent, "_ctx", None)
            if ctx is not None and id(parent) not in visited:
                visited.add(id(parent))
                _check_alive(ctx)
                stack.append((parent, iter(recorded_inputs(ctx))))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def _check_alive(ctx) -> None:
    if ctx._freed:
        raise RuntimeError(_freed_message(ctx.fn.__name__))


def _as_gradients(ctx: Context, grads) -> tuple:
    """Normalise what `backward` returned to a tuple with one entry per input, and check it."""
    if type(grads) is not tuple:
        grads = (grads,)
    if len(grads) != len(ctx.inputs):
        raise RuntimeError(f"{ctx.fn.__name__}.backward returned {len(grads)} gradients for "
                           f"{len(ctx.inputs)} inputs")
    for i, (g, t, needed) in enumerate(zip(grads, ctx.inputs, ctx.needs_input_grad)):
        if needed and g is not None:
            data = t.data
            if getattr(g, "shape", None) != data.shape or g.dtype != data.dtype:
                _bad_gradient(ctx.fn.__name__, i, g, data)
    return grads


def _bad_gradient(name: str, i: int, g, data: np.ndarray):
    shape = getattr(g, "shape", None)
    if shape != data.shape:
        raise RuntimeError(f"{name}.backward returned a gradient of shape {shape} for input {i} "
                           f"of shape {data.shape}")
    raise RuntimeError(f"{name}.backward returned a {g.dtype} gradient for input {i} of dtype "
                       f"{data.dtype} (shape {data.shape})")


def backward(root, grad, retain_graph: bool = False, create_graph: bool = False,
             capture: dict | None = None) -> None:
    """Accumulate d(root)/d(leaf) . grad into the `.grad` of every leaf that requires grad.

    With create_graph the gradients are Tensors recorded on the tape (for higher derivatives).
    With `capture` (a dict keyed by id of the wanted tensors), the gradients of those tensors
    are stored there instead, and no `.grad` is touched (this is `tg.grad`)."""
    if create_graph:
        grad = Tensor(grad)
    outer, _pass.callbacks = getattr(_pass, "callbacks", None), []
    try:
        if root._ctx is None:
            _accumulate(root, grad, capture)
        else:
            grads = {id(root): grad}
            with enable_grad() if create_graph else no_grad():
                for node in _topological_order(root):
                    _backward_node(node, grads, retain_graph, create_graph, capture)
    finally:
        callbacks, _pass.callbacks = _pass.callbacks, outer
    for fn in callbacks:
        fn()


_pass = threading.local()   # .callbacks: the functions queued by the backward pass running


def queue_callback(fn) -> None:
    """Call fn() once the backward pass now running (in this thread) has accumulated every
    gradient: from a tensor hook, this runs code after backward, e.g. the gradient averaging
    of DistributedDataParallel. PyTorch's engine `queue_callback`."""
    callbacks = getattr(_pass, "callbacks", None)
    if callbacks is None:
        raise RuntimeError("queue_callback: no backward pass is running (call it from a "
                           "tensor hook)")
    callbacks.append(fn)


def _backward_node(node, grads: dict, retain_graph: bool, create_graph: bool, capture) -> None:
    """Run one node's backward and route its input gradients: to leaves (or `capture`), or
    into `grads` (by id) for the nodes still to come."""
    g = grads.pop(id(node), None)
    ctx = node._ctx
    if g is not None:
        if node._hooks:
            g = node._run_hooks(g)
        if node._retains_grad or (capture is not None and id(node) in capture):
            _accumulate(node, g, capture)
        input_grads = _backward(ctx, g, node, create_graph)
        for parent, pg, needed in zip(recorded_inputs(ctx), input_grads, ctx.needs_input_grad):
            if pg is None or not needed:
                continue
            if parent._ctx is None:
                _accumulate(parent, parent._run_hooks(pg) if parent._hooks else pg, capture)
            else:
                key = id(parent)
                grads[key] = grads[key] + pg if key in grads else pg
    if not retain_graph:
        ctx.release()


def _accumulate(t, g, capture) -> None:
    """Add g to t.grad, or to capture[id(t)] when capturing (ignoring tensors not asked for)."""
    if capture is not None:
        if id(t) in capture:
            capture[id(t)] = g if capture[id(t)] is None else capture[id(t)] + g
        return
    with _accumulate_lock:  # threads backpropagating through shared leaves add up exactly
        if isinstance(g, Tensor):  # create_graph: keep the gradient's own graph
            t._grad = g if t._grad is None else t._grad + g
        elif t._grad is None:
            t._grad = Tensor(np.array(g, copy=True))
        else:
            t._grad = Tensor(t._grad.data + g)


_accumulate_lock = threading.Lock()


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False) -> tuple:
    """The gradients of `outputs` (a Tensor) with respect to each of `inputs`, returned as a
    tuple of Tensors (None for an input the output does not depend on) without touching any
    `.grad`. With create_graph=True the results are on the tape, so they can be
    differentiated again."""
    inputs = tuple(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    if grad_outputs is None:
        if outputs.data.size != 1:
            raise RuntimeError(f"grad: grad_outputs is needed for a non-scalar output of shape "
                               f"{outputs.shape}")
        grad_outputs = np.ones(outputs.shape, dtype=outputs.dtype)
    grad_outputs = np.asarray(getattr(grad_outputs, "data", grad_outputs), dtype=outputs.dtype)
    capture = {id(t): None for t in inputs}
    backward(outputs, grad_outputs, retain_graph=create_graph if retain_graph is None else retain_graph,
             create_graph=create_graph, capture=capture)
    return tuple(None if capture[id(t)] is None else
                 capture[id(t)] if isinstance(capture[id(t)], Tensor) else Tensor(np.array(capture[id(t)]))
                 for t in inputs)


Tensor = None  # the Tensor class, set by tensor.py when it is defined (it imports this module)
