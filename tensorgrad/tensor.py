"""`Tensor`: one ndarray plus what autograd needs (requires_grad, grad, its tape node).

Every differentiable method calls a primitive's `Function.apply` (tensorgrad/ops) or is a
short composite of such methods, so its backward comes from the tape.

Dtype rules:
- Python float data becomes the default dtype (float32, see `set_default_dtype`) unless
  `dtype` is given; an ndarray keeps its dtype (`tg.tensor(array)` copies it, as PyTorch
  does; `Tensor(array)` and `from_numpy` wrap it);
- Python scalars never change a float tensor's dtype (`x * 0.5` stays float32); an integer
  tensor with a float scalar follows NumPy (`labels * 0.5` is float64);
- two tensors of different float dtypes promote as NumPy does (float32 + float64 -> float64),
  and each input's gradient comes back in that input's own dtype;
- integer and bool tensors exist (labels, indices, masks) but never require gradients.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import _args, autograd, random, return_types
from . import devices
from ._spellings import both_given, torch_names
from .dtypes import as_dtype, type_name
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
    """Convert data to an ndarray: float data to the default dtype unless `dtype` is given.
    Data that is not numbers (str, bytes, dates, records, objects, ragged lists) is refused."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = np.asarray(data) if dtype is None else np.asarray(data, dtype=as_dtype(dtype, "tensor"))
    except ValueError as error:  # ragged nesting, or strings that are not numbers
        raise ValueError(f"tensor: cannot make a tensor from {_describe(data)}: {error}") from None
    check_numeric(array, data)
    if dtype is None and array.dtype.kind == "f" and array.dtype != _default_dtype:
        array = array.astype(_default_dtype)
    return array


def _describe(data) -> str:
    text = repr(data)
    return f"{type(data).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def check_numeric(array: np.ndarray, data) -> None:
    """Refuse an array whose dtype is not numbers or bool, naming what was passed."""
    if array.dtype.kind not in "biufc" or array.dtype.fields is not None:
        raise TypeError(f"tensor: cannot make a tensor from {_describe(data)} (NumPy dtype "
                        f"{array.dtype}); tensors hold numbers or bools")


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
            check_numeric(data, data)
            self.data = data
        else:  # a NumPy scalar keeps its dtype; Python data gets the default dtype rules
            if isinstance(data, np.generic):
                check_numeric(np.asarray(data), data)
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

    def size(self, dim: int | None = None):
        """The shape (PyTorch's spelling), or the size of one axis: x.size(1)."""
        if dim is None:
            return self.shape
        try:
            return self.shape[dim]
        except (IndexError, TypeError):
            raise IndexError(f"size: dimension {dim!r} is out of range for a tensor of shape "
                             f"{self.shape}") from None

    def dim(self) -> int:
        """The number of dimensions (PyTorch's spelling of ndim)."""
        return self.data.ndim

    @property
    def device(self) -> devices.device:
        """Where this tensor's memory lives: always device('cpu') today."""
        return devices.CPU

    is_cuda = False

    def cpu(self) -> "Tensor":
        """This tensor on the CPU: itself."""
        return self

    def contiguous(self) -> "Tensor":
        """A tensor with C-contiguous memory: itself if it has it, else a copy (on the tape)."""
        return self if self.data.flags.c_contiguous else self.clone()

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    def _one_number(self, kind: str):
        if self.data.size != 1:
            raise TypeError(f"{kind}(): only a tensor with one element can be converted to a "
                            f"Python {kind}, this one has shape {self.shape}")
        return self.data.reshape(()).item()

    def __float__(self) -> float:
        return float(self._one_number("float"))

    def __int__(self) -> int:
        return int(self._one_number("int"))

    def __index__(self) -> int:
        if self.dtype.kind not in "iu":
            raise TypeError(f"only an integer tensor with one element can be used as an index, "
                            f"this one is {self.dtype} with shape {self.shape}")
        return int(self._one_number("int"))

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

    def to(self, *args, dtype=None, device=None, copy: bool = False, non_blocking: bool = False):
        """This tensor on a device and/or with a dtype, as PyTorch's ``to``: ``x.to(dtype)``,
        ``x.to("cpu")``, ``x.to(device, dtype)``, ``x.to(other)`` (other's device and dtype),
        ``x.to(dtype=...)``. The cast is differentiable; self is returned when nothing changes
        (``x.to(None)`` changes nothing) unless copy=True. An unavailable device is an error."""
        dtype = devices.to_arguments(args, dtype, device, "to")
        dtype = self.dtype if dtype is None else as_dtype(dtype, "to")
        if dtype == self.dtype:
            return self.clone() if copy else self
        return ew.Cast.apply(self, dtype=dtype)

    def astype(self, dtype) -> "Tensor":
        """This tensor converted to dtype (NumPy's spelling of to(dtype))."""
        return self.to(as_dtype(dtype, "astype"))

    def type(self, dtype=None):
        """Without an argument, PyTorch's type name: 'tensorgrad.FloatTensor' for float32
        (``tensorgrad.`` where PyTorch writes ``torch.``); with a dtype, x.to(dtype)."""
        return type_name(self.dtype) if dtype is None else self.to(dtype)

    def float(self) -> "Tensor":
        return self.to(np.float32)

    def double(self) -> "Tensor":
        return self.to(np.float64)

    def half(self) -> "Tensor":
        return self.to(np.float16)

    def long(self) -> "Tensor":
        return self.to(np.int64)

    def int(self) -> "Tensor":
        return self.to(np.int32)

    def bool(self) -> "Tensor":
        return self.to(np.bool_)

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

    matmul = __matmul__

    def pow(self, exponent):
        return self ** exponent

    def __rmatmul__(self, other):
        return linalg.MatMul.apply(self._operand(other), self)

    def __neg__(self):
        return ew.Neg.apply(self)

    neg = __neg__

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

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    @torch_names
    def any(self, axis=None, keepdims: bool = False) -> "Tensor":
        axes = _args.axes(axis, self.ndim, "any")
        return Tensor(np.any(self.data, axis=axes, keepdims=keepdims))

    @torch_names
    def all(self, axis=None, keepdims: bool = False) -> "Tensor":
        axes = _args.axes(axis, self.ndim, "all")
        return Tensor(np.all(self.data, axis=axes, keepdims=keepdims))

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

    def sin(self):
        return ew.Sin.apply(self)

    def cos(self):
        return ew.Cos.apply(self)

    def maximum(self, other):
        """Elementwise maximum (ties split the gradient evenly)."""
        return ew.Maximum.apply(self, self._operand(other))

    def minimum(self, other):
        """Elementwise minimum (ties split the gradient evenly)."""
        return ew.Minimum.apply(self, self._operand(other))

    def clip(self, min=None, max=None):
        """Clamp to [min, max] (either may be None, each a number or a tensor); gradient 1
        inside, boundaries included."""
        out = self
        if min is not None:
            out = where(self.data < self._operand(min).data, self._operand(min), out)
        if max is not None:
            out = where(self.data > self._operand(max).data, self._operand(max), out)
        return out

    clamp = clip

    def clamp_min(self, min):
        return self.clip(min=min)

    def clamp_max(self, max):
        return self.clip(max=max)

    def masked_fill(self, mask, value):
        """A copy with value (a number or a one-element tensor) where the bool mask
        (broadcast to this shape) holds; the gradient flows to the other elements."""
        mask = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill: the mask must be bool, got {mask.dtype}")
        return where(mask, self._operand(value), self)

    # ------------------------------------------------------------------ reductions
    # NumPy's argument names (axis=, keepdims=) and PyTorch's (dim=, keepdim=) both work.

    @torch_names
    def sum(self, axis=None, keepdims: bool = False):
        return reduce.Sum.apply(self, axis=axis, keepdims=keepdims)

    def max(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        """The maximum. ``x.max()`` and ``x.max(axis=...)`` (an int or a tuple of axes) give
        the values, tied maxima sharing the gradient evenly (NumPy's max, PyTorch's amax).
        ``x.max(dim)`` with one int dim gives PyTorch's named tuple (values, indices), the
        gradient going to the element at the index; ``x.max(other)`` with a Tensor is
        ``maximum(x, other)``."""
        return self._extreme("max", dim, keepdim, axis, keepdims)

    def min(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        """The minimum: ``x.min()``, ``x.min(axis=...)``, ``x.min(dim)`` -> (values, indices)
        and ``x.min(other)``, as `max`."""
        return self._extreme("min", dim, keepdim, axis, keepdims)

    def _extreme(self, op: str, dim, keepdim, axis, keepdims):
        if isinstance(dim, Tensor):
            return self.maximum(dim) if op == "max" else self.minimum(dim)
        keepdims = bool(_one_of(op, "keepdims", keepdims, "keepdim", keepdim))
        if isinstance(dim, (int, np.integer)) and axis is None:
            source, axis = self._one_axis(dim, op)
            if source.shape[axis] == 0:
                raise ValueError(f"{op}: cannot reduce an empty dimension {dim} (shape {self.shape})")
            pick = np.argmax if op == "max" else np.argmin
            return self._picked(op, source, pick(source.data, axis=axis, keepdims=True), axis, keepdims)
        primitive = reduce.Max if op == "max" else reduce.Min
        return primitive.apply(self, axis=_one_of(op, "axis", axis, "dim", dim), keepdims=keepdims)

    @torch_names
    def amax(self, axis=None, keepdims: bool = False):
        """The maximum over axes (an int or a tuple); tied maxima share the gradient evenly."""
        return reduce.Max.apply(self, axis=axis, keepdims=keepdims)

    @torch_names
    def amin(self, axis=None, keepdims: bool = False):
        """The minimum over axes (an int or a tuple); tied minima share the gradient evenly."""
        return reduce.Min.apply(self, axis=axis, keepdims=keepdims)

    def _one_axis(self, dim, op: str) -> tuple:
        """(source, axis): the tensor to select from (a 0-d one as shape (1,)) and dim as a
        non-negative axis of it."""
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
            raise TypeError(f"{op}: dim must be one int, got {dim!r} (shape {self.shape})")
        source = self if self.ndim else self.reshape(1)
        return source, _args.axes(dim, source.ndim, op)[0]

    def _picked(self, op: str, source, indices: np.ndarray, axis: int, keepdim: bool):
        """PyTorch's (values, indices) named tuple for indices (with axis kept) into source;
        the values are gathered, so the gradient flows to the picked elements."""
        values = source.gather(axis, Tensor(indices))
        if not keepdim or source is not self:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return getattr(return_types, op)(values, Tensor(indices))

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """(values, indices) sorted along dim (stable: equal elements keep their order)."""
        source, axis = self._one_axis(dim, "sort")
        return self._picked("sort", source, _argsort(source.data, axis, descending), axis, True)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> "Tensor":
        return self.sort(dim, descending).indices

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        """(values, indices) of the k largest (or smallest) elements along dim, in order."""
        source, axis = self._one_axis(dim, "topk")
        if not isinstance(k, (int, np.integer)) or not 0 <= k <= source.shape[axis]:
            raise ValueError(f"topk: k={k!r} is out of range for dimension {dim} of size "
                             f"{source.shape[axis]} (shape {self.shape})")
        order = _argsort(source.data, axis, largest)
        return self._picked("topk", source, np.take(order, np.arange(k), axis=axis), axis, True)

    def median(self, dim=None, keepdim: bool = False):
        """The lower median (PyTorch's): ``x.median()`` a 0-d tensor, ``x.median(dim)`` the
        named tuple (values, indices). The gradient goes to the median element."""
        if dim is None:
            return self.reshape(-1).median(0).values
        source, axis = self._one_axis(dim, "median")
        n = source.shape[axis]
        if n == 0:
            raise ValueError(f"median: cannot reduce an empty dimension {dim} (shape {self.shape})")
        middle = np.take(_argsort(source.data, axis, False), [(n - 1) // 2], axis=axis)
        return self._picked("median", source, middle, axis, keepdim)

    def _count(self, axis) -> int:
        axes = _args.axes(axis, self.ndim, "mean")
        return int(np.prod([self.shape[a] for a in axes]))

    @torch_names
    def mean(self, axis=None, keepdims: bool = False):
        count = self._count(axis)  # first: a bad axis is reported as mean's
        return self.sum(axis, keepdims) / count

    def var(self, axis=None, keepdims=None, ddof=None, *, dim=None, keepdim=None,
            unbiased=None, correction=None):
        """Variance over axes. In NumPy's spelling (axis=, keepdims=, ddof=, or positional)
        the default is ddof=0, the biased estimate, as in NumPy; when any of PyTorch's names
        (dim=, keepdim=, unbiased=, correction=) is used the default is correction=1, the
        unbiased estimate, as in PyTorch. ddof and correction are the same number;
        unbiased=True means 1, False 0."""
        axis, keepdims, ddof = _variance_args(axis, keepdims, ddof, dim, keepdim, unbiased,
                                              correction)
        centered = self - self.mean(axis, keepdims=True)
        return (centered * centered).sum(axis, keepdims) / (self._count(axis) - ddof)

    def std(self, axis=None, keepdims=None, ddof=None, *, dim=None, keepdim=None,
            unbiased=None, correction=None):
        """The square root of `var` (the same arguments and defaults)."""
        return self.var(axis, keepdims, ddof, dim=dim, keepdim=keepdim, unbiased=unbiased,
                        correction=correction).sqrt()

    def norm(self, p="fro", dim=None, keepdim: bool = False):
        """The p-norm over dim (all elements by default): p = 'fro' or 2, 1, inf, -inf, or
        any positive number, as PyTorch's ``norm``."""
        if p in ("fro", 2):
            return (self * self).sum(dim, keepdim).sqrt()
        if p == 1:
            return self.abs().sum(dim, keepdim)
        if p in (np.inf, -np.inf):
            return self.abs().amax(dim, keepdim) if p > 0 else self.abs().amin(dim, keepdim)
        if isinstance(p, numbers.Real) and p > 0:
            return (self.abs() ** p).sum(dim, keepdim) ** (1.0 / p)
        raise ValueError(f"norm: p must be 'fro', a positive number or +-inf, got {p!r}")

    @torch_names
    def logsumexp(self, axis=None, keepdims: bool = False):
        """log(sum(exp(x))) over axes, shifted by the maximum so it never overflows."""
        shift = Tensor(reduce.finite_max(self.data, axis))
        out = (self - shift).exp().sum(axis, keepdims=True).log() + shift
        return out if keepdims else out.squeeze(axis)

    @torch_names
    def softmax(self, axis: int = -1):
        """exp(log_softmax(x)): never overflows."""
        return self.log_softmax(axis).exp()

    @torch_names
    def log_softmax(self, axis: int = -1):
        """x - logsumexp(x) along axis, as one primitive."""
        return reduce.LogSoftmax.apply(self, axis=axis)

    @torch_names
    def argmax(self, axis=None, keepdims: bool = False) -> "Tensor":
        return self._arg_extreme(np.argmax, "argmax", axis, keepdims)

    @torch_names
    def argmin(self, axis=None, keepdims: bool = False) -> "Tensor":
        return self._arg_extreme(np.argmin, "argmin", axis, keepdims)

    def _arg_extreme(self, fn, name: str, axis, keepdims: bool) -> "Tensor":
        if self.data.size == 0 and (axis is None or self.shape[axis] == 0):
            where = "" if axis is None else f" along axis {axis}"
            raise ValueError(f"{name}: the tensor of shape {self.shape} is empty{where}, so it "
                             "has no largest or smallest element")
        return Tensor(fn(self.data, axis=axis, keepdims=keepdims))

    # ------------------------------------------------------------------ movement

    def reshape(self, *shape):
        shape = _args.shape(shape, "reshape", unknown=1)
        return self if shape == self.shape else movement.Reshape.apply(self, shape=shape)

    view = reshape

    def view_as(self, other: "Tensor"):
        return self.reshape(other.shape)

    reshape_as = view_as

    def expand_as(self, other: "Tensor"):
        return self.expand(other.shape)

    def permute(self, *axes):
        return movement.Permute.apply(self, axes=_args.integers(axes, "an axis", "permute"))

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

    def t(self):
        """The transpose of a matrix (a tensor of at most 2 dimensions, as PyTorch's t())."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor of at most 2 dimensions, got shape "
                             f"{self.shape}; use transpose(a, b) or permute")
        return self.transpose(0, -1) if self.ndim == 2 else self

    def expand(self, *shape):
        return movement.Expand.apply(self, shape=_args.shape(shape, "expand", unknown=self.ndim))

    def repeat(self, *repeats):
        """Tile the tensor: repeats[i] copies along axis i (PyTorch's repeat, NumPy's tile);
        more repeats than axes add leading axes."""
        repeats = _args.shape(repeats, "repeat")
        if len(repeats) < self.ndim or any(r < 0 for r in repeats):
            raise ValueError(f"repeat: needs one non-negative count per axis of shape "
                             f"{self.shape} (or more), got {repeats}")
        shape = (1,) * (len(repeats) - self.ndim) + self.shape
        spread = self.reshape(tuple(n for size in shape for n in (1, size)))
        tiled = spread.expand(tuple(n for pair in zip(repeats, shape) for n in pair))
        return tiled.reshape(tuple(r * n for r, n in zip(repeats, shape)))

    def split(self, split_size_or_sections, dim: int = 0) -> tuple:
        """Pieces along dim: of split_size elements each (the last may be smaller), or of the
        sizes listed (they must add up to the axis' size). Each piece is a differentiable view."""
        _, axis = self._one_axis(dim, "split")
        n = self.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            step = int(split_size_or_sections)
            if step <= 0:
                raise ValueError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, n - start) for start in range(0, n, step)] or [0]
        else:
            sizes = [int(k) for k in split_size_or_sections]
            if sum(sizes) != n or any(k < 0 for k in sizes):
                raise ValueError(f"split: sizes {sizes} do not add up to the size {n} of "
                                 f"dimension {dim} (shape {self.shape})")
        starts = np.cumsum([0] + sizes[:-1])
        lead = (slice(None),) * axis
        return tuple(self[lead + (slice(int(a), int(a) + k),)] for a, k in zip(starts, sizes))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """Split into `chunks` pieces of equal size along dim (the last may be smaller, and
        there may be fewer pieces, as in PyTorch)."""
        if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
        _, axis = self._one_axis(dim, "chunk")
        return self.split(max(-(-self.shape[axis] // chunks), 1), dim)

    def _along(self, op: str, dim, index) -> tuple:
        """The NumPy index that picks, for every position of index, the element of self at
        that position with its dim coordinate replaced by index's value (PyTorch's gather
        rule: index has self's number of dims and no axis larger than self's, dim aside)."""
        index = index.data if isinstance(index, Tensor) else np.asarray(index)
        _, axis = self._one_axis(dim, op)
        if index.dtype.kind not in "iu" or index.ndim != self.ndim or any(
                k > n for d, (k, n) in enumerate(zip(index.shape, self.shape)) if d != axis):
            raise ValueError(f"{op}: index must be an integer tensor with {self.ndim} dims, "
                             f"no larger than the input (shape {self.shape}) outside dim {dim}; "
                             f"got {index.dtype} of shape {index.shape}")
        size = self.shape[axis]
        if index.size and (index.min() < -size or index.max() >= size):
            raise IndexError(f"{op}: index values must be in [{-size}, {size}) for dimension "
                             f"{dim} of shape {self.shape}, got {index.min()}..{index.max()}")
        grid = list(np.ogrid[tuple(slice(k) for k in index.shape)])
        grid[axis] = index
        return tuple(grid)

    def gather(self, dim: int, index):
        """out[i][j][k] = self[index[i][j][k]][j][k] for dim 0 (and so on), as PyTorch's
        gather; the gradient is added back to the gathered elements (repeats add up)."""
        return movement.GetItem.apply(self, index=self._along("gather", dim, index))

    def scatter(self, dim: int, index, src):
        """A copy of self with src's values (a tensor, or one number) written at the places
        index names along dim (PyTorch's scatter, out of place). Where index repeats a place,
        the last write wins and alone gets the gradient."""
        where_ = self._along("scatter", dim, index)
        return movement.SetItem.apply(self, self._scatter_source("scatter", src, where_), index=where_)

    def scatter_add(self, dim: int, index, src):
        """A copy of self with src's values added at the places index names along dim
        (repeats add up), PyTorch's scatter_add out of place."""
        where_ = self._along("scatter_add", dim, index)
        added = self._scatter_source("scatter_add", src, where_)
        return self + movement.Scatter.apply(added, shape=self.shape, index=where_)

    def _scatter_source(self, op: str, src, index: tuple):
        """src cut to index's shape (PyTorch reads only that corner of a larger src); a
        number spread to it."""
        shape = np.broadcast_shapes(*(i.shape for i in index))
        if not isinstance(src, Tensor):
            return self._operand(src).expand(shape)
        if src.ndim != len(shape) or any(k > n for k, n in zip(shape, src.shape)):
            raise ValueError(f"{op}: src of shape {src.shape} is smaller than index (shape "
                             f"{shape})")
        return src if src.shape == shape else src[tuple(slice(k) for k in shape)]

    @torch_names
    def flatten(self, start_axis: int = 0, end_axis: int = -1):
        """Merge axes start_axis..end_axis into one."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_axis % self.ndim, end_axis % self.ndim
        merged = int(np.prod(self.shape[start:end + 1]))  # not -1: an empty batch has no size
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1:])

    @torch_names
    def squeeze(self, axis=None):
        """Remove size-1 axes (all of them, or those named)."""
        if axis is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        else:
            axes = _args.axes(axis, self.ndim, "squeeze")
            bad = [a for a in axes if self.ndim and self.shape[a] != 1]
            if bad:
                raise ValueError(f"squeeze: axis {bad[0]} of shape {self.shape} has size "
                                 f"{self.shape[bad[0]]}, not 1")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    @torch_names
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


def _one_of(op: str, numpy_name: str, numpy_value, torch_name: str, torch_value):
    """The value of an argument given in NumPy's or PyTorch's spelling (None if neither)."""
    if numpy_value is not None and torch_value is not None:
        raise both_given(op, numpy_name, torch_name)
    return torch_value if numpy_value is None else numpy_value


def _variance_args(axis, keepdims, ddof, dim, keepdim, unbiased, correction) -> tuple:
    """(axis, keepdims, ddof) of var/std from either spelling (see Tensor.var)."""
    torch_style = any(a is not None for a in (dim, keepdim, unbiased, correction))
    axis = _one_of("var", "axis", axis, "dim", dim)
    keepdims = bool(_one_of("var", "keepdims", keepdims, "keepdim", keepdim))
    given = [(n, v) for n, v in (("ddof", ddof), ("correction", correction),
                                 ("unbiased", unbiased)) if v is not None]
    if len(given) > 1:
        raise TypeError(f"var: got {' and '.join(n + '=' for n, _ in given)}; they set the same "
                        "thing, give one")
    if not given:
        return axis, keepdims, 1 if torch_style else 0
    name, value = given[0]
    return axis, keepdims, int(bool(value)) if name == "unbiased" else value


def _argsort(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Indices that sort data along axis, stable (ties keep their order); descending puts
    the largest first."""
    if descending:
        data = -(data.astype(np.int64) if data.dtype.kind in "ub" else data)
    return np.argsort(data, axis=axis, kind="stable")


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


@torch_names
def cat(tensors, axis: int = 0) -> Tensor:
    """Concatenate tensors along an existing axis."""
    return movement.Cat.apply(*tensors, axis=axis)


@torch_names
def stack(tensors, axis: int = 0) -> Tensor:
    """Stack same-shape tensors along a new axis."""
    return movement.Stack.apply(*tensors, axis=axis)
