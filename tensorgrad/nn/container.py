"""Containers: Sequential (modules called in order), ModuleList (a registered list) and
ModuleDict (a registered dict)."""
from __future__ import annotations

from .module import Module

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


class _IndexedModules(Module):
    """Submodules named "0", "1", ... (or by the given names), accessed by position."""

    def _values(self) -> list:
        return list(self._modules.values())

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._sliced(list(self._modules.items())[index])
        try:
            return self._values()[index]
        except IndexError:
            raise IndexError(f"{type(self).__name__}: index {index} out of range for "
                             f"{len(self)} modules") from None

    def append(self, module: Module) -> _IndexedModules:
        self.add_module(str(len(self)), module)
        return self


class Sequential(_IndexedModules):
    """Calls its modules in order, each on the previous one's output.

    ``Sequential(m0, m1, ...)`` names them "0", "1", ...; ``Sequential(dict)`` (an
    OrderedDict or a plain dict) uses the dict's names, e.g. to match a PyTorch state_dict.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    @staticmethod
    def _sliced(items) -> Sequential:
        return Sequential(dict(items))  # keeps the names, as PyTorch does

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_IndexedModules):
    """A list of modules whose parameters are registered (names "0", "1", ...)."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    @staticmethod
    def _sliced(items) -> ModuleList:
        return ModuleList(module for _, module in items)  # renumbered, as PyTorch does

    def extend(self, modules) -> ModuleList:
        for module in modules:
            self.append(module)
        return self


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys, in insertion
    order (PyTorch's ModuleDict)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules) -> None:
        """Add modules from a mapping or an iterable of (key, module) pairs."""
        for key, module in (modules.items() if hasattr(modules, "items") else modules):
            self[key] = module
