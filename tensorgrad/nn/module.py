"""`Module`, the base of every layer and model, and `Parameter`, the tensors it trains.

A module finds its parameters, buffers and submodules from attribute assignment::

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(784, 10)          # a submodule: its parameters are ours
            self.scale = nn.Parameter(tg.ones(1)) # a parameter
            self.register_buffer("count", tg.zeros(1))  # state that is saved but not trained

        def forward(self, x):
            return self.fc(x) * self.scale

Names follow PyTorch (``fc.weight``, ``features.0.bias``), so a PyTorch state_dict converted to
NumPy arrays loads into the same architecture.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from .. import devices
from ..autograd import increment_version
from ..ops.movement import Reshape
from ..tensor import Tensor, get_default_dtype

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """A Tensor that a Module trains: it requires grad and is registered on assignment.

    `Parameter(tensor)` shares the tensor's array; an ndarray is wrapped as is; other data
    is converted as `tg.tensor` does (float data to the default dtype).
    """

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data.data if isinstance(data, Tensor) else data,
                         requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models: subclasses call ``super().__init__()`` first and
    define ``forward``; calling the module calls ``forward``."""

    training: bool

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward method")

    def __call__(self, *args, **kwargs):
        for hook in self._forward_pre_hooks.values():
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        if self._backward_hooks:
            output = self._forward_with_backward_hooks(args, kwargs)
        else:
            output = self.forward(*args, **kwargs)
        for hook in self._forward_hooks.values():
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # ------------------------------------------------------------------ hooks

    def register_forward_pre_hook(self, hook) -> _ModuleHookHandle:
        """Call ``hook(module, args)`` before each forward; a non-None result (a tuple, or one
        value) replaces the positional arguments. Returns a handle with remove()."""
        return _ModuleHookHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook) -> _ModuleHookHandle:
        """Call ``hook(module, args, output)`` after each forward; a non-None result replaces
        the output. Returns a handle with remove()."""
        return _ModuleHookHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook) -> _ModuleHookHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to
        the module's positional Tensor inputs (grad_input, None for those that need none) and
        its Tensor output (grad_output) have been computed. A module whose one input needs a
        gradient may return a tuple that replaces grad_input. Supported subset: one Tensor
        output; keyword arguments get no gradient entries."""
        return _ModuleHookHandle(self._backward_hooks, hook)

    def _forward_with_backward_hooks(self, args: tuple, kwargs: dict):
        # Each input that needs a gradient passes through its own identity node, so the
        # gradient reaching that node is exactly the gradient with respect to the input.
        wanted = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        args = tuple(Reshape.apply(a, shape=a.shape) if i in wanted else a
                     for i, a in enumerate(args))
        output = self.forward(*args, **kwargs)
        if not isinstance(output, Tensor) or not output.requires_grad:
            return output
        grad_input = [None] * len(args)
        grad_output = []

        def call_hooks():
            for hook in self._backward_hooks.values():
                result = hook(self, tuple(grad_input), tuple(grad_output))
                if result is not None:
                    if len(wanted) != 1:
                        raise RuntimeError(f"{type(self).__name__} backward hook: replacing "
                                           "grad_input is supported for modules with one input "
                                           "that needs a gradient")
                    grad_input[wanted[0]] = _checked_grad(self, result, args[wanted[0]])
            return grad_input[wanted[0]] if len(wanted) == 1 else None

        def on_output(grad):
            grad_output.append(grad)
            if not wanted:
                call_hooks()

        def on_input(i):
            def hook(grad):
                grad_input[i] = grad
                if all(grad_input[j] is not None for j in wanted):
                    return call_hooks()
            return hook

        output.register_hook(on_output)
        for i in wanted:
            args[i].register_hook(on_input(i))
        return output

    # ------------------------------------------------------------------ registration

    def _registries(self) -> tuple:
        try:
            return self._parameters, self._buffers, self._modules
        except AttributeError:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 "assigning parameters, buffers or submodules") from None

    def __setattr__(self, name: str, value) -> None:
        params, buffers, modules = (self.__dict__.get(k) for k in
                                    ("_parameters", "_buffers", "_modules"))
        if isinstance(value, (Parameter, Module)):
            self._registries()
            self._discard(name)
            (params if isinstance(value, Parameter) else modules)[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to parameter '{name}' of "
                                f"{type(self).__name__}: use nn.Parameter or None")
            params[name] = None
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to submodule '{name}' of "
                                f"{type(self).__name__}: use an nn.Module or None")
            modules[name] = None
        elif buffers is not None and name in buffers:
            buffers[name] = _as_buffer(name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: look in the registries.
        for registry in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if not self._discard(name):
            object.__delattr__(self, name)

    def _discard(self, name: str) -> bool:
        """Remove name from every registry and the instance dict; True if it was registered."""
        self.__dict__.pop(name, None)
        self._non_persistent.discard(name)
        return any(registry.pop(name, _MISSING) is not _MISSING for registry in self._registries())

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder, e.g. a layer built with bias=False)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be an nn.Parameter or None, "
                            f"got {type(param).__name__}")
        self._registries()
        self._discard(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Add a buffer: state that is not trained (e.g. running_mean). Persistent buffers
        are part of the state_dict; `net.to(dtype)` casts float buffers."""
        self._registries()
        self._discard(name)
        self._buffers[name] = _as_buffer(name, tensor)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a submodule under name (what attribute assignment does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be an nn.Module or None, got "
                            f"{type(module).__name__}")
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"add_module: invalid module name {name!r}")
        self._registries()
        self._discard(name)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ traversal

    def named_modules(self, prefix: str = ""):
        """(dotted name, module) for this module and every submodule, each once, pre-order."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m)
                        for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def _named_members(self, registry: str, prefix: str = "", recurse: bool = True):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """(dotted name, parameter) pairs, each shared parameter once, in PyTorch's order;
        names start with `prefix`; recurse=False gives only this module's own parameters."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the parameters hold (each shared parameter once); with
        trainable_only, only those that require grad."""
        return sum(p.data.size for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    def apply(self, fn) -> Module:
        """Call fn on every submodule and then on self (e.g. custom initialisation)."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # ------------------------------------------------------------------ modes and dtype

    def train(self, mode: bool = True) -> Module:
        """Set training mode (or evaluation mode with mode=False) recursively; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self) -> None:
        """Set every parameter's grad to None."""
        for p in self.parameters():
            p.grad = None

    def to(self, *args, dtype=None, device=None) -> Module:
        """Cast float parameters, their grads and float buffers to dtype in place; returns
        self. Takes PyTorch's forms: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
        ``to(tensor)``; the device must be available (see tensorgrad/devices.py)."""
        dtype = devices.to_arguments(args, dtype, device, "Module.to")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: expected a floating dtype, got {dtype}")
        tensors = list(self.parameters()) + list(self.buffers())
        for t in tensors + [p.grad for p in self.parameters() if p.grad is not None]:
            if t.dtype.kind == "f":
                t.data = t.data.astype(dtype, copy=False)
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    # ------------------------------------------------------------------ state dict

    def _state_tensors(self) -> dict:
        """Parameters and persistent buffers by dotted name, in PyTorch's state_dict order."""
        result = {}
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            result.update((dot + n, p) for n, p in module._parameters.items() if p is not None)
            result.update((dot + n, b) for n, b in module._buffers.items()
                          if b is not None and n not in module._non_persistent)
        return result

    def state_dict(self) -> dict:
        """Parameters and persistent buffers by dotted name, as ndarrays that share memory
        with the module (copy them to keep a snapshot)."""
        return {name: t.data for name, t in self._state_tensors().items()}

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values (ndarrays, Tensors or array-likes) into the existing parameters and
        buffers, keeping their dtype. Shape mismatches always raise; with strict=True missing
        and unexpected keys raise too, all of them named in one error. Returns the
        (missing_keys, unexpected_keys) named tuple."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict: expected a dict of arrays, got "
                            f"{type(state_dict).__name__}")
        own = self._state_tensors()
        values = {k: _state_value(k, v) for k, v in state_dict.items()}
        missing = [k for k in own if k not in values]
        unexpected = [k for k in values if k not in own]
        mismatched = [f"{k}: checkpoint shape {values[k].shape}, model shape {t.shape}"
                      for k, t in own.items() if k in values and values[k].shape != t.shape]
        problems = [f"size mismatch for {m}" for m in mismatched]
        if strict:
            problems = ([f"missing keys: {', '.join(missing)}"] if missing else []) + \
                       ([f"unexpected keys: {', '.join(unexpected)}"] if unexpected else []) + \
                       problems
        if problems:
            raise RuntimeError(f"load_state_dict: cannot load into {type(self).__name__}:\n  "
                               + "\n  ".join(problems))
        for key, t in own.items():
            if key in values:
                np.copyto(t.data, values[key], casting="unsafe")
                increment_version(t)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr

    def extra_repr(self) -> str:
        """The layer's settings shown inside its repr, e.g. 'in_features=4, out_features=2'."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ")
                 for name, m in self._modules.items()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = ([extra] if extra else []) + lines
        return f"{type(self).__name__}(\n  " + "\n  ".join(body) + "\n)"


_MISSING = object()


class _ModuleHookHandle:
    """Returned by the register_*_hook methods: remove() unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: OrderedDict, hook):
        if not callable(hook):
            raise TypeError(f"register hook: expected a function, got {type(hook).__name__}")
        self.hooks, self.id = hooks, next(self._ids)
        hooks[self.id] = hook

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


def _checked_grad(module: Module, result, like: Tensor):
    """The one gradient in a backward hook's replacement grad_input, checked like any
    gradient: the input's shape and dtype."""
    grad = result[0] if isinstance(result, (tuple, list)) and len(result) == 1 else result
    data = getattr(grad, "data", grad)
    if not isinstance(data, np.ndarray) or data.shape != like.shape or data.dtype != like.dtype:
        raise RuntimeError(f"{type(module).__name__} backward hook returned a gradient of shape "
                           f"{getattr(data, 'shape', None)} and dtype {getattr(data, 'dtype', None)} "
                           f"for an input of shape {like.shape} and dtype {like.dtype}")
    return grad if isinstance(grad, Tensor) else Tensor(data)


def _state_value(key: str, value) -> np.ndarray:
    """A state_dict value as an ndarray of numbers (a Tensor, an ndarray or a nested list of
    numbers); anything else is a TypeError naming the key."""
    array = value.data if isinstance(value, Tensor) else value
    if isinstance(array, (str, bytes)) or array is None:
        raise TypeError(f"load_state_dict: the value for '{key}' is a {type(value).__name__}, "
                        "not an array of numbers")
    try:
        array = np.asarray(array)
    except (ValueError, TypeError) as error:
        raise TypeError(f"load_state_dict: the value for '{key}' is not an array of numbers "
                        f"({error})") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"load_state_dict: the value for '{key}' is a {type(value).__name__} "
                        f"of dtype {array.dtype}, not an array of numbers")
    return array


def empty_parameter(shape: tuple, dtype=None) -> Parameter:
    """An uninitialised Parameter of shape, in dtype (the default dtype when None), for a
    layer to fill with `nn.init`."""
    return Parameter(np.empty(shape, dtype=get_default_dtype() if dtype is None else dtype))


def _as_buffer(name: str, value) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor(value)
    raise TypeError(f"buffer '{name}' must be a Tensor, an ndarray or None, got "
                    f"{type(value).__name__}")
