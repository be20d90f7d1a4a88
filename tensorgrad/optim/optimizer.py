"""`Optimizer`: parameter groups, per-parameter state, zero_grad, step and state dicts.

Subclasses implement `_update(param, grad, state, group)`, which changes ``param.data`` in
place with whole-array NumPy operations; `step` then bumps the parameter's version counter.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import enable_grad, increment_version
from ..tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of the optimizers.

    `params` is an iterable of Tensors (all in one group) or of dicts, each with a "params"
    entry and any options that override the optimizer's defaults for that group, as in
    PyTorch: ``SGD([{"params": net.fc.parameters(), "lr": 0.01}, {"params": rest}], lr=0.1)``.
    """

    def __init__(self, params, defaults: dict):
        if isinstance(params, (Tensor, dict)):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or of "
                            f"dicts, got a single {type(params).__name__}")
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters with its own options (missing ones take the defaults)."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: parameter group {len(self.param_groups)} must be a dict "
                            "with a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            where = f"parameter {i} of group {len(self.param_groups)}"
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: {where} is a {type(p).__name__}, not a Tensor")
            if not p.requires_grad:
                raise ValueError(f"{name}: {where} (shape {p.shape}) does not require grad; "
                                 "an optimizer only updates tensors with requires_grad=True")
            if not p.is_leaf:
                raise ValueError(f"{name}: {where} (shape {p.shape}) is not a leaf tensor; "
                                 "optimize the leaf it was computed from")
            if id(p) in taken:
                raise ValueError(f"{name}: {where} (shape {p.shape}) appears more than once")
            taken.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(f"{name}: unknown options {sorted(unknown)} in a parameter group")
        for option, value in group.items():
            if option in self.defaults:
                _check_group_option(name, len(self.param_groups), option, value,
                                    self.defaults[option])
        self.param_groups.append({**self.defaults, **group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter: to None (default) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient. `closure`, if given, re-evaluates the
        model and returns the loss, which step returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad.data, self.state.setdefault(p, {}), group)
                    increment_version(p)  # a graph that saved p now refuses to backward
        return loss

    def _update(self, param: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ state dict

    def state_dict(self) -> dict:
        """{"state": {index: {name: value}}, "param_groups": [{option: value, "params":
        [index, ...]}]}, with parameters numbered in group order as in PyTorch. Arrays are
        shared with the optimizer, not copied."""
        index = {}
        groups = []
        for group in self.param_groups:
            ids = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and state saved by `state_dict` (copies the arrays, cast to each
        parameter's dtype). The groups must hold the same numbers of parameters."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups' (what state_dict() returns)")
        saved_groups = state_dict["param_groups"]
        for i, saved in enumerate(saved_groups):
            missing = sorted(set(self.defaults) - set(saved))
            if missing:
                raise ValueError(f"{name}.load_state_dict: parameter group {i} of the state has "
                                 f"no {missing}: it was saved by another optimizer class")
            for option in self.defaults:
                _check_group_option(f"{name}.load_state_dict", i, option, saved[option],
                                    self.defaults[option])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state has {len(saved_groups)} "
                             f"parameter groups, this optimizer has {len(self.param_groups)}")
        params = {}
        for i, (saved, own) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has "
                                 f"{len(saved['params'])} parameters in the state, "
                                 f"{len(own['params'])} in this optimizer")
            params.update((int(k), p) for k, p in zip(saved["params"], own["params"]))
        state = {}
        for key, saved in state_dict["state"].items():
            if int(key) not in params:
                raise ValueError(f"{name}.load_state_dict: state for parameter {key}, which no "
                                 "parameter group lists")
            p = params[int(key)]
            state[p] = {k: _copy_state(name, key, k, v, p) for k, v in saved.items()}
        self.state = state
        self.param_groups = [{**{k: v for k, v in saved.items() if k != "params"},
                              "params": own["params"]}
                             for saved, own in zip(saved_groups, self.param_groups)]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _check_group_option(name: str, index: int, option: str, value, default) -> None:
    """A group's option must be of the default's kind: a number (not NaN; lr not negative)
    for a number, a flag for a flag, a tuple of numbers of the same length for a tuple."""
    where = f"{name}: option '{option}' of parameter group {index}"
    if isinstance(default, bool):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{where} must be True or False, got {value!r}")
    elif isinstance(default, numbers.Real):
        if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)) or \
                math.isnan(value):
            raise TypeError(f"{where} must be a number, got {value!r}")
        if option == "lr" and value < 0:
            raise ValueError(f"{where} must not be negative, got {value!r}")
    elif isinstance(default, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(default):
            raise TypeError(f"{where} must be a tuple of {len(default)} numbers, got {value!r}")
        for v, d in zip(value, default):
            _check_group_option(name, index, option, v, d)


def _copy_state(name: str, index, key: str, value, param: Tensor):
    """A copy of one saved state value: arrays shaped like the parameter take its dtype."""
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, np.ndarray) or value.ndim == 0:
        return value.item() if isinstance(value, np.ndarray) else value
    if value.shape != param.shape:
        raise ValueError(f"{name}.load_state_dict: state '{key}' of parameter {index} has "
                         f"shape {value.shape}, the parameter has shape {param.shape}")
    return value.astype(param.dtype) if value.dtype.kind == "f" else value.copy()


def check_option(name: str, option: str, value, valid: bool) -> None:
    """Raise a ValueError naming the optimizer and the option unless valid."""
    if not valid:
        raise ValueError(f"{name}: invalid {option} {value!r}")


def state_buffer(state: dict, key: str, like: np.ndarray) -> np.ndarray:
    """state[key], created as zeros shaped like `like` on first use."""
    buf = state.get(key)
    if buf is None:
        buf = state[key] = np.zeros_like(like)
    return buf
