"""`Tensor`: one ndarray plus what autograd needs (requires_grad, grad, its tape node).

Every differentiable method calls a primitive's `Function.apply` (tensorgrad/ops) or is a
short composite of such methods, so its backward comes from the tape.

Dtype rules:
- float data becomes the default dtype (float32, see `set_default_dtype`) unless `dtype` is
  given; wrapping an existing ndarray with `Tensor(array)` or `from_numpy` keeps its dtype;
- Python scalars never change a float tensor's dtype (`x * 0.5` stays float32); an integer
  tensor with a float scalar follows NumPy (`labels * 0.5` is float64);
- two tensors of different float dtypes promote as NumPy does (float32 + float64 -> float64),
  and each input's gradient comes back in that input's own dtype;
- integer and bool tensors exist (labels, indices, masks) but never require gradients.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import autograd, random
from .ops import elementwise as ew
from .ops import linalg, movement, reduce

_default_dtype = np.dtype(np.float32)


def set_default_dtype(dtype) -> None:
    """Set the dtype that float data gets when none is given (float32 initially)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """The dtype that float data gets when none is given."""
    return _default_dtype


def as_array(data, dtype=None) -> np.ndarray:
    """Convert data to an ndarray: float data to the default dtype unless `dtype` is given."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=np.dtype(dtype))
    array = np.asarray(data)
    if array.dtype.kind == "f" and array.dtype != _default_dtype:
        array = array.astype(_default_dtype)
    elif array.dtype.kind == "O":
        raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} data")
    return array


def _unary_inplace(method: str):
    """The in-place twin of a unary Tensor method (``x.exp_()`` for ``x.exp()``): the same
    op, its result written into the tensor (recorded, saving a copy of the old value)."""
    def inplace(self):
        return self._inplace(f"{name}", lambda d: np.copyto(d, getattr(Tensor(d), method)().data,
                                                             casting="same_kind"),
                             lambda old: getattr(old, method)(), copy_previous=True)
    name = method.strip("_") + "_"
    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = f"x.{name}() is x.{method.strip('_')}() written into x itself; returns x."
    return inplace


class _HookHandle:
    def __init__(self, hooks: list, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


class Tensor:
    """An n-dimensional array that records the operations on it for automatic differentiation.

    `Tensor(ndarray)` wraps the array without copying and keeps its dtype (so does a NumPy
    scalar); other data is converted as `tg.tensor` does. Set `requires_grad=True` on a float tensor to get its
    gradient in `.grad` after `backward()`.
    """

    __slots__ = ("data", "_grad", "_requires_grad", "_ctx", "_hooks", "_retains_grad",
                 "_version_counter", "__weakref__", "__dict__")
    __array_ufunc__ = None  # make `ndarray + Tensor` call Tensor.__radd__
    _history = None  # (tick, previous) once an in-place op moved it to a new node (autograd)

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, np.ndarray):
            self.data = data
        else:  # a NumPy scalar keeps its dtype; Python data gets the default dtype rules
            self.data = np.asarray(data) if isinstance(data, np.generic) else as_array(data)
        self._grad = None
        self._ctx = None
        self._version_counter = autograd.VersionCounter()
        self._hooks = None
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data: np.ndarray, ctx=None, version_counter=None) -> "Tensor":
        """A Tensor around an op's output (no checks): a recorded node when ctx is given; a
        view of another tensor's memory shares that tensor's version counter."""
        t = object.__new__(cls)
        t.data, t._grad, t._ctx, t._hooks, t._retains_grad = data, None, ctx, None, False
        t._version_counter = autograd.VersionCounter() if version_counter is None else version_counter
        t._requires_grad = ctx is not None
        return t

    # ------------------------------------------------------------------ autograd state

    @property
    def requires_grad(self) -> bool:
        """Whether gradients are computed for this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind == "c":
            raise TypeError(f"complex tensors cannot require gradients (this one is "
                            f"{self.data.dtype} with shape {self.shape}): tensorgrad has no "
                            "complex autograd; keep real and imaginary parts as two float "
                            "tensors")
        if value and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, this one is "
                            f"{self.data.dtype} with shape {self.shape}")
        if not value and self._ctx is not None:
            raise RuntimeError("requires_grad can only be switched off on a leaf tensor; "
                               "use detach() to get a tensor outside the graph")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set requires_grad in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by a recorded operation."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The primitive (Function subclass) that produced this tensor, or None for a leaf."""
        return None if self._ctx is None else self._ctx.fn

    @property
    def grad(self):
        """The gradient accumulated by backward(): a Tensor of this tensor's shape and dtype,
        or None. Assigning anything else is an error."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: expected a Tensor or None, got {type(value).__name__} "
                                f"(for a tensor of shape {self.shape}); wrap an array with "
                                "tg.tensor(...)")
            if value.shape != self.shape:
                raise ValueError(f"grad: the gradient has shape {value.shape}, the tensor has "
                                 f"shape {self.shape}")
            if value.dtype != self.dtype:
                raise TypeError(f"grad: the gradient is {value.dtype}, the tensor is "
                                f"{self.dtype} (shape {self.shape})")
        self._grad = value

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place through tensorgrad (shared
        with its views; PyTorch's `_version`)."""
        return self._version_counter.value

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data (and version counter), outside the graph (no
        gradient flows back)."""
        t = Tensor(self.data)
        t._version_counter = self._version_counter
        self._version_counter.shared = True
        return t

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep it)."""
        self._retains_grad = True

    def register_hook(self, hook):
        """Call hook(grad) whenever this tensor's gradient is computed; if it returns a Tensor,
        that replaces the gradient. Returns a handle whose remove() unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does "
                               "not require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def _run_hooks(self, grad):
        """Apply the hooks to an ndarray gradient (or a Tensor one under create_graph)."""
        as_tensor = isinstance(grad, Tensor)
        for hook in self._hooks:
            result = hook(grad if as_tensor else Tensor(grad))
            if result is not None:
                if not isinstance(result, Tensor):
                    raise TypeError(f"hook {_name(hook)} returned a {type(result).__name__}; a "
                                    "tensor hook returns a Tensor (the new gradient) or None")
                if result.shape != self.shape or result.dtype != self.dtype:
                    raise RuntimeError(f"hook {_name(hook)} returned a {result.dtype} gradient "
                                       f"of shape {result.shape} for a {self.dtype} tensor of "
                                       f"shape {self.shape}")
                grad = result if as_tensor else result.data
        return grad

    def backward(self, grad=None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires grad
        and accumulate it into their `.grad`. A non-scalar tensor needs `grad`, the gradient
        of some scalar with respect to it. The graph is freed unless retain_graph=True;
        create_graph=True records the backward pass itself (the graph is then kept), so the
        gradients can be differentiated again."""
        if not self.requires_grad:
            raise RuntimeError(f"backward: this tensor (shape {self.shape}) does not require "
                               "grad: none of its inputs had requires_grad=True, or it was "
                               "computed under no_grad()")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward: a gradient can be created implicitly only for a "
                                   f"scalar output, this tensor has shape {self.shape}; call "
                                   "backward(grad) with a gradient of that shape")
            grad = np.ones(self.shape, dtype=self.dtype)
        else:
            grad = as_array(grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward: the gradient has shape {grad.shape}, the tensor "
                                 f"has shape {self.shape}")
        if retain_graph is None:
            retain_graph = create_graph
        autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    # ------------------------------------------------------------------ array facts

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def nbytes(self) -> int:
        return self.data.nbytes

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (no copy)."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python "
                             f"number, this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with shape {self.shape} is "
                             "ambiguous; use .any() or .all()")
        return bool(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn={self._ctx.fn.__name__}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ dtype

    def to(self, dtype) -> "Tensor":
        """This tensor converted to `dtype` (differentiable; self if it already has it)."""
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else ew.Cast.apply(self, dtype=dtype)

    astype = to

    def float(self) -> "Tensor":
        return self.to(np.float32)

    def double(self) -> "Tensor":
        return self.to(np.float64)

    # ------------------------------------------------------------------ arithmetic

    def _operand(self, other) -> "Tensor":
        """Turn the other operand of a binary op into a Tensor; Python scalars take this
        tensor's dtype (an int tensor with a float scalar follows NumPy and gives float64)."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (numbers.Number, np.generic)) and not isinstance(other, np.ndarray):
            kind = self.dtype.kind
            if kind in "fc" or (isinstance(other, numbers.Integral) and kind in "iu"):
                return Tensor(np.asarray(other, dtype=self.dtype))
            return Tensor(np.asarray(other))
        return Tensor(other if isinstance(other, np.ndarray) else as_array(other))

    def __add__(self, other):
        return ew.Add.apply(self, self._operand(other))

    def __radd__(self, other):
        return ew.Add.apply(self._operand(other), self)

    def __sub__(self, other):
        return ew.Sub.apply(self, self._operand(other))

    def __rsub__(self, other):
        return ew.Sub.apply(self._operand(other), self)

    def __mul__(self, other):
        return ew.Mul.apply(self, self._operand(other))

    def __rmul__(self, other):
        return ew.Mul.apply(self._operand(other), self)

    def __truediv__(self, other):
        return ew.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other):
        return ew.Div.apply(self._operand(other), self)

    def __pow__(self, other):
        return ew.Pow.apply(self, self._operand(other))

    def __rpow__(self, other):
        return ew.Pow.apply(self._operand(other), self)

    def __matmul__(self, other):
        return linalg.MatMul.apply(self, self._operand(other))

    def __rmatmul__(self, other):
        return linalg.MatMul.apply(self._operand(other), self)

    def __neg__(self):
        return ew.Neg.apply(self)

    def __pos__(self):
        return self

    # ------------------------------------------------------------------ in-place operations
    # Each changes this tensor's memory and bumps its version counter (shared with its views),
    # so that backward() refuses a graph whose saved arrays were changed since. While
    # gradients are recorded, an in-place op on a tensor in the graph (or with an operand
    # that requires grad) is recorded as its out-of-place form, as PyTorch does.

    def _inplace(self, name: str, write, recorded, *operands, copy_previous=False) -> "Tensor":
        """Change self.data with write(data) (a NumPy in-place update) and bump the version.
        While recording, with this tensor or an operand requiring grad: recorded(previous)
        computes the new value out of place on the tape from `previous`, a Tensor standing for
        this tensor's old value (a copy of it when copy_previous, for ops that save it)."""
        if not self.data.flags.writeable:
            raise ValueError(f"{name}: this tensor's memory is read-only (shape {self.shape}): "
                             "a broadcast view from expand(), or an array NumPy marks "
                             "read-only; change a copy")
        if autograd.is_grad_enabled() and (self._requires_grad or any(
                isinstance(o, Tensor) and o._requires_grad for o in operands)):
            return self._inplace_recorded(name, recorded, copy_previous)
        try:
            write(self.data)
        except TypeError as error:  # NumPy refuses e.g. a float result in an int tensor
            raise TypeError(f"{name}: cannot write the result into this {self.dtype} tensor "
                            f"(shape {self.shape}) in place: {error}") from None
        self._version_counter.value += 1
        return self

    def _inplace_recorded(self, name: str, recorded, copy_previous: bool) -> "Tensor":
        """An in-place op on the tape: this tensor moves to the op's node; the nodes recorded
        before keep seeing its previous value and node (autograd.move_to_new_node)."""
        if self._ctx is None and self._requires_grad:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad (shape {self.shape}) is being used "
                "in an in-place operation while gradients are recorded; change it under "
                "tg.no_grad() (as an optimizer step does), or change a clone()")
        if self._version_counter.shared:
            raise RuntimeError(
                f"{name}: this tensor (shape {self.shape}) shares its memory with another "
                "tensor (a view from getitem, reshape, permute, expand or detach), and an "
                "in-place change of shared memory cannot be recorded for gradients; change a "
                "clone() or use the out-of-place form")
        if self.dtype.kind != "f":
            raise TypeError(f"{name}: an operand requires grad but this {self.dtype} tensor "
                            f"(shape {self.shape}) cannot; use the out-of-place form")
        # `previous` must hold the old values when an op saves it, and when its node saved its
        # output apart from self.data (output_id): under create_graph that output is `previous`
        copy_previous = copy_previous or (self._ctx is not None and "output_id" in self._ctx.__dict__)
        previous = Tensor._wrap(self.data.copy() if copy_previous else self.data, self._ctx,
                                None if copy_previous else self._version_counter)
        previous._hooks, self._hooks = self._hooks, None  # as PyTorch: hooks so far see the old value
        new = recorded(previous)
        if new.dtype != self.dtype:
            new = new.to(self.dtype)
        np.copyto(self.data, new.data)
        self._version_counter.value += 1
        ctx = new._ctx
        if "output_id" not in ctx.__dict__:  # an output it saved is new.data, not self.data
            ctx.output_id = id(new.data)
        autograd.move_to_new_node(self, previous, ctx)
        return self

    def clone(self) -> "Tensor":
        """A copy in memory of its own, on the tape (the gradient passes through unchanged):
        what to change in place when the original must stay as it is."""
        return ew.Cast.apply(self, dtype=self.dtype)

    def _inplace_operand(self, name: str, other) -> np.ndarray:
        """The other operand of an in-place op as an array that broadcasts to self's shape."""
        array = self._operand(other).data
        if array.shape != self.shape:
            try:
                fits = np.broadcast_shapes(array.shape, self.shape) == self.shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(f"{name}: an operand of shape {array.shape} cannot be written "
                                 f"into a tensor of shape {self.shape} in place")
        return array

    def _inplace_ufunc(self, name: str, ufunc, other, recorded, copy_previous=False) -> "Tensor":
        array = self._inplace_operand(name, other)
        return self._inplace(name, lambda d: ufunc(d, array, out=d, casting="same_kind"),
                             recorded, other, copy_previous=copy_previous)

    def _overwrite(self, name: str, write, value) -> "Tensor":
        """An in-place op whose new value does not depend on the old one: recorded as
        where(False, old, value), so the old value gets a zero gradient."""
        return self._inplace(name, write, lambda old: where(np.zeros(self.shape, bool), old, value),
                             value)

    def add_(self, other, alpha=1) -> "Tensor":
        """self += alpha * other, in place; returns self."""
        other = other if alpha == 1 else other * alpha
        return self._inplace_ufunc("add_", np.add, other, lambda old: old + other)

    def sub_(self, other, alpha=1) -> "Tensor":
        """self -= alpha * other, in place; returns self."""
        other = other if alpha == 1 else other * alpha
        return self._inplace_ufunc("sub_", np.subtract, other, lambda old: old - other)

    def mul_(self, other) -> "Tensor":
        """self *= other, in place; returns self."""
        return self._inplace_ufunc("mul_", np.multiply, other, lambda old: old * other, True)

    def div_(self, other) -> "Tensor":
        """self /= other, in place; returns self."""
        return self._inplace_ufunc("div_", np.true_divide, other, lambda old: old / other, True)

    def pow_(self, exponent) -> "Tensor":
        """self **= exponent, in place; returns self."""
        return self._inplace_ufunc("pow_", np.power, exponent, lambda old: old ** exponent, True)

    def clamp_(self, min=None, max=None) -> "Tensor":
        """Clamp to [min, max] in place (either may be None); returns self."""
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        lo = None if min is None else self._inplace_operand("clamp_", min)
        hi = None if max is None else self._inplace_operand("clamp_", max)
        return self._inplace("clamp_", lambda d: np.clip(d, lo, hi, out=d, casting="same_kind"),
                             lambda old: old.clip(min, max), min, max)

    clip_ = clamp_

    def clamp_min_(self, min) -> "Tensor":
        """Clamp below at min, in place; returns self."""
        return self.clamp_(min=min)

    def clamp_max_(self, max) -> "Tensor":
        """Clamp above at max, in place; returns self."""
        return self.clamp_(max=max)

    def zero_(self) -> "Tensor":
        """Fill with zeros, in place; returns self."""
        return self._overwrite("zero_", lambda d: d.fill(0), Tensor(np.zeros((), self.dtype)))

    def fill_(self, value) -> "Tensor":
        """Fill with one value (a number or a one-element Tensor), in place; returns self."""
        number = value.item() if isinstance(value, Tensor) else value
        return self._overwrite("fill_", lambda d: d.fill(number), self._operand(value))

    def copy_(self, src) -> "Tensor":
        """Copy src's values into this tensor (broadcast to its shape, cast to its dtype), in
        place; returns self."""
        src = src if isinstance(src, Tensor) else Tensor(np.asarray(src))
        array = self._inplace_operand("copy_", src)
        return self._overwrite("copy_", lambda d: np.copyto(d, array, casting="unsafe"), src)

    def masked_fill_(self, mask, value) -> "Tensor":
        """Set the elements where mask (bool, broadcast to this shape) holds to value, in
        place; returns self."""
        mask = self._inplace_operand("masked_fill_", mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill_: the mask must be bool, got {mask.dtype}")
        array = self._inplace_operand("masked_fill_", value)
        return self._inplace("masked_fill_", lambda d: np.copyto(d, array, where=mask),
                             lambda old: where(mask, value, old), value)

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> "Tensor":
        """Fill with samples from N(mean, std ** 2) (the global generator), in place."""
        samples = random.generator().normal(mean, std, self.shape).astype(self.dtype)
        return self._overwrite("normal_", lambda d: np.copyto(d, samples), Tensor(samples))

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> "Tensor":
        """Fill with samples from U(a, b) (the global generator), in place."""
        samples = random.generator().uniform(a, b, self.shape).astype(self.dtype)
        return self._overwrite("uniform_", lambda d: np.copyto(d, samples), Tensor(samples))

    neg_, exp_, log_, sqrt_ = (_unary_inplace(m) for m in ("__neg__", "exp", "log", "sqrt"))
    abs_, relu_, sigmoid_, tanh_ = (_unary_inplace(m) for m in ("abs", "relu", "sigmoid", "tanh"))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # comparisons give bool tensors and carry no gradient
    def __lt__(self, other):
        return Tensor(self.data < self._operand(other).data)

    def __le__(self, other):
        return Tensor(self.data <= self._operand(other).data)

    def __gt__(self, other):
        return Tensor(self.data > self._operand(other).data)

    def __ge__(self, other):
        return Tensor(self.data >= self._operand(other).data)

    def __eq__(self, other):
        return Tensor(self.data == self._operand(other).data)

    def __ne__(self, other):
        return Tensor(self.data != self._operand(other).data)

    def any(self, axis=None, keepdims: bool = False) -> "Tensor":
        return Tensor(np.any(self.data, axis=axis, keepdims=keepdims))

    def all(self, axis=None, keepdims: bool = False) -> "Tensor":
        return Tensor(np.all(self.data, axis=axis, keepdims=keepdims))

    # ------------------------------------------------------------------ unary math

    def exp(self):
        return ew.Exp.apply(self)

    def log(self):
        return ew.Log.apply(self)

    def sqrt(self):
        return ew.Sqrt.apply(self)

    def abs(self):
        return ew.Abs.apply(self)

    def relu(self):
        return ew.Relu.apply(self)

    def sigmoid(self):
        return ew.Sigmoid.apply(self)

    def tanh(self):
        return ew.Tanh.apply(self)

    def maximum(self, other):
        """Elementwise maximum (ties split the gradient evenly)."""
        return ew.Maximum.apply(self, self._operand(other))

    def minimum(self, other):
        """Elementwise minimum (ties split the gradient evenly)."""
        return ew.Minimum.apply(self, self._operand(other))

    def clip(self, lo=None, hi=None):
        """Clamp to [lo, hi] (either may be None); gradient 1 inside, boundaries included."""
        out = self
        if lo is not None:
            out = where(self.data < lo, self._operand(lo), out)
        if hi is not None:
            out = where(self.data > hi, self._operand(hi), out)
        return out

    # ------------------------------------------------------------------ reductions

    def sum(self, axis=None, keepdims: bool = False):
        return reduce.Sum.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False):
        """Maximum over axes; tied maxima share the gradient evenly."""
        return reduce.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False):
        """Minimum over axes; tied minima share the gradient evenly."""
        return reduce.Min.apply(self, axis=axis, keepdims=keepdims)

    def _count(self, axis) -> int:
        axes = reduce.normalize_axes(axis, self.ndim, "mean")
        return int(np.prod([self.shape[a] for a in axes]))

    def mean(self, axis=None, keepdims: bool = False):
        return self.sum(axis, keepdims) / self._count(axis)

    def var(self, axis=None, keepdims: bool = False, ddof: int = 0):
        """Variance over axes; ddof=0 is the biased estimate (NumPy's default)."""
        centered = self - self.mean(axis, keepdims=True)
        return (centered * centered).sum(axis, keepdims) / (self._count(axis) - ddof)

    def std(self, axis=None, keepdims: bool = False, ddof: int = 0):
        return self.var(axis, keepdims, ddof).sqrt()

    def logsumexp(self, axis=None, keepdims: bool = False):
        """log(sum(exp(x))) over axes, shifted by the maximum so it never overflows."""
        shift = Tensor(reduce.finite_max(self.data, axis))
        out = (self - shift).exp().sum(axis, keepdims=True).log() + shift
        return out if keepdims else out.squeeze(axis)

    def softmax(self, axis: int = -1):
        """exp(log_softmax(x)): never overflows."""
        return self.log_softmax(axis).exp()

    def log_softmax(self, axis: int = -1):
        """x - logsumexp(x) along axis, as one primitive."""
        return reduce.LogSoftmax.apply(self, axis=axis)

    def argmax(self, axis=None, keepdims: bool = False) -> "Tensor":
        return Tensor(np.argmax(self.data, axis=axis, keepdims=keepdims))

    def argmin(self, axis=None, keepdims: bool = False) -> "Tensor":
        return Tensor(np.argmin(self.data, axis=axis, keepdims=keepdims))

    # ------------------------------------------------------------------ movement

    def reshape(self, *shape):
        shape = _shape_args(shape)
        return self if shape == self.shape else movement.Reshape.apply(self, shape=shape)

    view = reshape

    def permute(self, *axes):
        return movement.Permute.apply(self, axes=_shape_args(axes))

    def transpose(self, a: int = -2, b: int = -1):
        """Swap two axes (the last two by default)."""
        axes = list(range(self.ndim))
        try:
            axes[a], axes[b] = axes[b], axes[a]
        except IndexError:
            raise ValueError(f"transpose: axes ({a}, {b}) out of range for shape {self.shape}") from None
        return self.permute(*axes)

    @property
    def T(self):
        """All axes reversed (the matrix transpose for 2-D tensors), as in NumPy."""
        return self.permute(*reversed(range(self.ndim)))

    def expand(self, *shape):
        return movement.Expand.apply(self, shape=_shape_args(shape))

    def flatten(self, start_axis: int = 0, end_axis: int = -1):
        """Merge axes start_axis..end_axis into one."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_axis % self.ndim, end_axis % self.ndim
        merged = int(np.prod(self.shape[start:end + 1]))  # not -1: an empty batch has no size
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1:])

    def squeeze(self, axis=None):
        """Remove size-1 axes (all of them, or those named)."""
        if axis is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        else:
            axes = reduce.normalize_axes(axis, self.ndim, "squeeze")
            bad = [a for a in axes if self.ndim and self.shape[a] != 1]
            if bad:
                raise ValueError(f"squeeze: axis {bad[0]} of shape {self.shape} has size "
                                 f"{self.shape[bad[0]]}, not 1")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, axis: int):
        """Insert a size-1 axis at position `axis` (negative counts from the end of the result)."""
        if not -self.ndim - 1 <= axis <= self.ndim:
            raise ValueError(f"unsqueeze: axis {axis} out of range for shape {self.shape}")
        axis = axis % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def pad(self, pad_width, value: float = 0.0):
        """Constant padding; pad_width as np.pad: ((before, after), ...) per axis."""
        return movement.Pad.apply(self, pad_width=pad_width, value=value)

    def __getitem__(self, index):
        return movement.GetItem.apply(self, index=_unwrap_index(index))

    def __setitem__(self, index, value) -> None:
        """x[index] = value, in place (recorded as `SetItem` when gradients are)."""
        index = _unwrap_index(index)
        array = value.data if isinstance(value, Tensor) else value

        def write(data):
            try:
                data[index] = array
            except (IndexError, ValueError) as e:
                raise type(e)(f"setitem: {e} (tensor of shape {self.shape})") from None
        self._inplace("setitem", write, lambda old: movement.SetItem.apply(old, value, index=index),
                      value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))


autograd.Tensor = Tensor


def _name(fn) -> str:
    """How an error names a user's function: its qualified name, else its repr."""
    return getattr(fn, "__qualname__", None) or repr(fn)


def _shape_args(shape) -> tuple:
    """Accept both f(2, 3) and f((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _unwrap_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray([i.data if isinstance(i, Tensor) else i for i in index])
    return index


def where(condition, a, b) -> Tensor:
    """Elements of a where condition holds, else of b (gradients flow to a and b)."""
    condition = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(as_array(a))
    a = a if isinstance(a, Tensor) else b._operand(a)
    b = b if isinstance(b, Tensor) else a._operand(b)
    return ew.Where.apply(condition, a, b)


def cat(tensors, axis: int = 0) -> Tensor:
    """Concatenate tensors along an existing axis."""
    return movement.Cat.apply(*tensors, axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    """Stack same-shape tensors along a new axis."""
    return movement.Stack.apply(*tensors, axis=axis)
