"""Learning-rate schedulers with PyTorch's formulas: StepLR, MultiStepLR, ExponentialLR,
LambdaLR, LinearLR, CosineAnnealingLR, OneCycleLR, SequentialLR and ReduceLROnPlateau.

A scheduler sets ``group["lr"]`` of its optimizer at construction (step 0) and on every
`step()`; call it after ``optimizer.step()``, once per epoch (most) or once per batch
(OneCycleLR). ReduceLROnPlateau is stepped with the metric it watches: ``step(val_loss)``.
"""
from __future__ import annotations

import math
import numbers
from bisect import bisect_right

import numpy as np

from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "LambdaLR", "LinearLR",
           "CosineAnnealingLR", "OneCycleLR", "SequentialLR", "ReduceLROnPlateau"]


class LRScheduler:
    """Base class: subclasses define `get_lr()`, the learning rate of each parameter group
    at step ``self.last_epoch`` (in closed form)."""

    # Attributes that state_dict leaves out (the optimizer, and user functions).
    _not_saved = ("optimizer",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(type(self).__name__, optimizer)
        self._check()
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr': "
                               "resuming with last_epoch >= 0 needs the optimizer's saved state")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def _check(self) -> None:
        """Raise a ValueError naming the scheduler if an option is out of range (run at
        construction and by `load_state_dict`)."""

    def get_lr(self) -> list:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one step and set the new learning rates."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        """The learning rates set by the last step, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Every attribute except the optimizer (and, for LambdaLR, the functions)."""
        return {key: value for key, value in self.__dict__.items() if key not in self._not_saved}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what `state_dict` returned. The keys must be this scheduler's, numbers
        must be numbers (not NaN) and the options in range; on an error nothing changes."""
        name = type(self).__name__
        own = self.state_dict()
        if not isinstance(state_dict, dict) or set(state_dict) != set(own):
            keys = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{name}.load_state_dict: expected the keys {sorted(own)}, got "
                             f"{keys}: not a {name} state")
        values = {key: _checked_value(name, key, value, own[key])
                  for key, value in state_dict.items()}
        previous = dict(self.__dict__)
        self.__dict__.update(values)
        try:
            self._check()
        except ValueError as error:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise ValueError(f"{name}.load_state_dict: {error}") from None


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (step // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def _check(self) -> None:
        if not _is_int(self.step_size) or self.step_size <= 0:
            raise ValueError(f"StepLR: step_size must be positive, got {self.step_size!r}")

    def get_lr(self) -> list:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (number of milestones <= step)."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1):
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def _check(self) -> None:
        if not all(_is_int(m) and m >= 0 for m in self.milestones):
            raise ValueError(f"MultiStepLR: milestones must be non-negative integers, got "
                             f"{self.milestones!r}")

    def get_lr(self) -> list:
        factor = self.gamma ** bisect_right(self.milestones, self.last_epoch)
        return [base * factor for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** step."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check(self) -> None:
        if not math.isfinite(self.gamma):
            raise ValueError(f"ExponentialLR: gamma must be a finite number, got {self.gamma!r}")

    def get_lr(self) -> list:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(step), with one function for every group or one per group.
    The functions are not part of `state_dict` (as in PyTorch, where plain functions are
    not saved)."""

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        _check_optimizer("LambdaLR", optimizer)
        self.lr_lambdas = _per_group("LambdaLR", "lr_lambda", lr_lambda, optimizer.param_groups)
        if not all(callable(f) for f in self.lr_lambdas):
            raise TypeError("LambdaLR: lr_lambda must be a function or a list of functions")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        return [base * f(self.last_epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]


class LinearLR(LRScheduler):
    """lr = base_lr * factor, the factor going linearly from start_factor to end_factor over
    total_iters steps, then staying at end_factor."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def _check(self) -> None:
        if not 0 < self.start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got "
                             f"{self.start_factor!r}")
        if not 0 <= self.end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {self.end_factor!r}")
        if not _is_int(self.total_iters) or self.total_iters <= 0:
            raise ValueError(f"LinearLR: total_iters must be a positive integer, got "
                             f"{self.total_iters!r}")

    def get_lr(self) -> list:
        done = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return [base * factor for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2 (SGDR without
    restarts; past T_max the cosine continues, as in PyTorch)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def _check(self) -> None:
        if self.T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {self.T_max!r}")

    def get_lr(self) -> list:
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin), as PyTorch: the learning rate rises from
    max_lr / div_factor to max_lr over the first pct_start of total_steps, then anneals to
    max_lr / (div_factor * final_div_factor) (three_phase: back to the initial lr first, then
    down to the minimum). With cycle_momentum, momentum (or Adam's beta1) moves inversely
    between max_momentum and base_momentum. Call `step()` after every batch."""

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        if total_steps is None:
            if not epochs or not steps_per_epoch or epochs <= 0 or steps_per_epoch <= 0:
                raise ValueError("OneCycleLR: give total_steps, or positive epochs and "
                                 "steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        rise = float(pct_start * total_steps) - 1
        # (end_step, start_lr, end_lr, start_momentum, end_momentum): keys of the group dicts
        self.phases = ([(rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                        (2 * rise, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                        (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
                       if three_phase else
                       [(rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                        (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")])
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, top in zip(groups, _per_group("OneCycleLR", "max_lr", max_lr, groups)):
                group.update(initial_lr=top / div_factor, max_lr=top,
                             min_lr=top / div_factor / final_div_factor)
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("OneCycleLR: cycle_momentum needs an optimizer with momentum "
                                 "or betas")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                tops = _per_group("OneCycleLR", "max_momentum", max_momentum, groups)
                bases = _per_group("OneCycleLR", "base_momentum", base_momentum, groups)
                for group, top, base in zip(groups, tops, bases):
                    self._set_momentum(group, top)
                    group.update(max_momentum=top, base_momentum=base)
        super().__init__(optimizer, last_epoch)

    def _check(self) -> None:
        if not _is_int(self.total_steps) or self.total_steps <= 0:
            raise ValueError(f"OneCycleLR: total_steps must be positive, got "
                             f"{self.total_steps!r}")

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; total_steps is "
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr0, lr1, m0, m1) in enumerate(self.phases):
                if step <= end_step or i == len(self.phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    break
                start_step = end_step
            lrs.append(self._anneal(group[lr0], group[lr1], pct))
            if self.cycle_momentum:
                self._set_momentum(group, self._anneal(group[m0], group[m1], pct))
        return lrs


class SequentialLR(LRScheduler):
    """Hand over from one scheduler to the next at each milestone: at step t, the scheduler
    whose range holds t runs, at its own step t - (the milestone it started at)."""

    _not_saved = ("optimizer", "_schedulers")

    def __init__(self, optimizer: Optimizer, schedulers, milestones, last_epoch: int = -1):
        _check_optimizer("SequentialLR", optimizer)
        self._schedulers, self._milestones = list(schedulers), list(milestones)
        if not self._schedulers:
            raise ValueError("SequentialLR: expected at least one scheduler")
        for i, scheduler in enumerate(self._schedulers):
            if not isinstance(scheduler, LRScheduler) or isinstance(scheduler, ReduceLROnPlateau):
                raise TypeError(f"SequentialLR: schedulers[{i}] is a {type(scheduler).__name__}, "
                                "not a step-based scheduler")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: schedulers[{i}] belongs to another optimizer")
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        super().__init__(optimizer, last_epoch)

    def _check(self) -> None:
        if len(self._milestones) != len(self._schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(self._schedulers) - 1} milestones for "
                             f"{len(self._schedulers)} schedulers, got {len(self._milestones)}")
        if self._milestones != sorted(self._milestones) or \
                not all(_is_int(m) and m > 0 for m in self._milestones):
            raise ValueError(f"SequentialLR: milestones must be increasing positive integers, "
                             f"got {self._milestones!r}")

    def get_lr(self) -> list:
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        scheduler.last_epoch = self.last_epoch - (self._milestones[index - 1] if index else 0)
        lrs = scheduler.get_lr()
        scheduler._last_lr = list(lrs)
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rates by `factor` once the watched metric has not improved for
    more than `patience` steps (PyTorch's rules for mode, threshold, threshold_mode, cooldown,
    min_lr and eps). Call ``step(metric)`` once per epoch."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0.0, eps: float = 1e-8):
        _check_optimizer("ReduceLROnPlateau", optimizer)
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.min_lrs = _per_group("ReduceLROnPlateau", "min_lr", min_lr, optimizer.param_groups)
        self._check()
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _check(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {self.mode!r}")
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{self.threshold_mode!r}")
        if not 0 <= self.factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {self.factor!r}")
        if not _is_int(self.patience) or self.patience < 0:
            raise ValueError(f"ReduceLROnPlateau: patience must be a non-negative integer, got "
                             f"{self.patience!r}")

    def _improves(self, value: float) -> bool:
        if self.mode == "min":
            bound = self.best * (1 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return value < bound
        bound = self.best * (1 + self.threshold) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return value > bound

    def step(self, metrics) -> None:
        """Record this epoch's value of the metric and reduce the rates if it stalled."""
        value = float(metrics)
        if math.isnan(value):
            raise ValueError("ReduceLROnPlateau.step: the metric is NaN")
        self.last_epoch += 1
        if self._improves(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def _check_optimizer(name: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: {type(optimizer).__name__} is not an Optimizer")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _checked_value(name: str, key: str, value, current):
    """A value loaded for attribute `key`: numbers must stay numbers (NaN refused), lists
    keep their length; 0-d arrays (from a checkpoint file) become Python numbers."""
    if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
        value = value.item()
    if isinstance(current, numbers.Real) and not isinstance(current, bool):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or math.isnan(value):
            raise ValueError(f"{name}.load_state_dict: '{key}' must be a number, got {value!r}")
        if _is_int(current) and not _is_int(value):
            raise ValueError(f"{name}.load_state_dict: '{key}' must be an integer, got {value!r}")
    elif isinstance(current, (list, tuple)):
        value = list(value) if isinstance(value, (list, tuple, np.ndarray)) else value
        if not isinstance(value, list) or len(value) != len(current):
            raise ValueError(f"{name}.load_state_dict: '{key}' must be a list of {len(current)} "
                             f"values, got {value!r}")
        value = [_checked_value(name, f"{key}[{i}]", v, c)
                 for i, (v, c) in enumerate(zip(value, current))]
    return value


def _per_group(scheduler: str, name: str, value, groups: list) -> list:
    """One value per parameter group: a scalar is repeated, a list must have one per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"{scheduler}: expected {len(groups)} values for {name}, got "
                             f"{len(value)}")
        return list(value)
    return [value] * len(groups)
