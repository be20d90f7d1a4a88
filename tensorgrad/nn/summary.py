"""`summary(model, input_shape)`: a table of a model's layers, their output shapes and
parameter counts, as Keras's `model.summary()` and torchinfo print it."""
from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, get_default_dtype
from .module import Module

__all__ = ["summary"]


def summary(model: Module, input_shape, dtype=None) -> str:
    """Run one zero batch of `input_shape` (e.g. (1, 1, 28, 28)) through model in eval mode
    without recording, and return a table with one row per layer (every module without
    submodules, in call order): its name, type, output shape and parameter count, then the
    total and trainable parameter counts. The model's mode is restored."""
    rows, handles = [], []
    for name, module in model.named_modules():
        if not module._modules:
            handles.append(module.register_forward_hook(
                lambda m, args, out, name=name: rows.append((name, m, _shape(out)))))
    was_training = model.training
    try:
        with no_grad():
            model.eval()(Tensor(np.zeros(tuple(input_shape), dtype or get_default_dtype())))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    table = [("Layer (type)", "Output shape", "Param #")]
    table += [(f"{name or '(model)'} ({type(m).__name__})", str(shape),
               f"{sum(p.data.size for p in m.parameters()):,}") for name, m, shape in rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in table]
    rule = "-" * len(lines[0])
    total, trainable = model.num_parameters(), model.num_parameters(trainable_only=True)
    return "\n".join([lines[0], rule, *lines[1:], rule,
                      f"Total parameters: {total:,} (trainable {trainable:,})"])


def _shape(output):
    return output.shape if isinstance(output, Tensor) else type(output).__name__
