"""`DistributedDataParallel`: the same model on every rank, each rank on its own part of the
batch, gradients averaged over the ranks after every backward pass (PyTorch's names)::

    import tensorgrad.distributed as dist
    dist.init_process_group()
    model = DistributedDataParallel(lenet5())     # rank 0's weights on every rank
    loss = F.cross_entropy(model(x_shard), y_shard)
    loss.backward()                                # .grad: the mean over the ranks
    opt.step()                                     # the same update on every rank
"""
from __future__ import annotations

import contextlib

import numpy as np

from .. import distributed as dist
from ..autograd import increment_version, queue_callback
from ..tensor import Tensor
from .module import Module

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Wrap `module` for data-parallel training over the default process group.

    On wrapping, every rank checks that its model has the same parameters and buffers (names,
    shapes, dtypes) as rank 0's, raising ValueError on every rank naming the first difference,
    then takes rank 0's values. After each backward pass through the model, every
    parameter's `.grad` is the mean of the ranks' gradients: one MPI Allreduce per dtype over
    a flat buffer of all of them, run when the pass has finished (a parameter without a
    gradient on some rank counts as zero there; one without a gradient on every rank keeps
    `.grad` None). With broadcast_buffers (default), rank 0's buffers (e.g. BatchNorm's
    running statistics) are copied to every rank at each forward in training mode.
    `no_sync()` skips the averaging, to accumulate gradients locally over several batches.
    `.module` is the wrapped model; state_dict keys carry the prefix "module.", as PyTorch's.
    """

    def __init__(self, module: Module, broadcast_buffers: bool = True, **_ignored):
        super().__init__()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self._sync, self._queued = True, False
        self.reduce_calls = 0   # MPI calls made to average gradients (for tests/benchmarks)
        _check_same_model(module)
        _broadcast_arrays([t for _, t in _state(module)])
        for p in self._grad_params():
            p.register_hook(self._on_gradient)

    def forward(self, *args, **kwargs):
        self._queued = False   # (a backward pass that raised never ran its averaging)
        if self.broadcast_buffers and self.training:
            self.sync_buffers()
        return self.module(*args, **kwargs)

    def sync_buffers(self) -> None:
        """Copy rank 0's buffers (e.g. BatchNorm running statistics) to every rank now."""
        _broadcast_arrays(list(self.module.buffers()))

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes in this block leave the local gradients unaveraged (the averaging
        after the first backward outside it covers all that accumulated)."""
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    def _grad_params(self) -> list:
        return [p for p in self.module.parameters() if p.requires_grad]

    def _on_gradient(self, grad) -> None:
        if self._sync and not self._queued and dist.get_world_size() > 1:
            self._queued = True
            queue_callback(self._average_gradients)

    def _average_gradients(self) -> None:
        """Replace every parameter's .grad by the mean over the ranks: one Allreduce per dtype
        over [every gradient, then a has-a-gradient flag per parameter]."""
        self._queued = False
        params = self._grad_params()
        for dtype in dict.fromkeys(p.dtype for p in params):
            group = [p for p in params if p.dtype == dtype]
            offsets = np.cumsum([0] + [p.data.size for p in group])
            total = offsets[-1]
            flat = np.zeros(total + len(group), dtype)
            for i, p in enumerate(group):
                if p.grad is not None:
                    flat[offsets[i]:offsets[i + 1]] = p.grad.data.reshape(-1)
                    flat[total + i] = 1
            dist.all_reduce(flat)
            self.reduce_calls += 1
            flat[:total] /= dist.get_world_size()
            for i, p in enumerate(group):
                if flat[total + i]:
                    p.grad = Tensor(flat[offsets[i]:offsets[i + 1]].reshape(p.shape))


def _state(module: Module) -> list:
    """(name, tensor) of every parameter, then every buffer."""
    return list(module.named_parameters()) + list(module.named_buffers())


def _check_same_model(module: Module) -> None:
    """Raise ValueError, on every rank, if some rank's parameters and buffers differ from
    rank 0's in names, shapes or dtypes."""
    mine = [(name, tuple(t.shape), str(t.dtype)) for name, t in _state(module)]
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, mine)
    for rank, theirs in enumerate(everyone[1:], 1):
        difference = _first_difference(everyone[0], theirs, rank)
        if difference:
            raise ValueError(f"DistributedDataParallel: the model on rank {rank} differs from "
                             f"rank 0's: {difference}")


def _first_difference(first: list, other: list, rank: int) -> str | None:
    describe = lambda entry: f"{entry[0]!r} {entry[2]} of shape {entry[1]}"
    for a, b in zip(first, other):
        if a != b:
            return f"rank 0 has {describe(a)} where rank {rank} has {describe(b)}"
    if len(first) != len(other):
        longer, who = (first, "0") if len(first) > len(other) else (other, str(rank))
        return f"only rank {who} has {describe(longer[min(len(first), len(other))])}"
    return None


def _broadcast_arrays(tensors: list) -> None:
    """Copy rank 0's values into these tensors on every rank: one Bcast per dtype."""
    if dist.get_world_size() == 1 or not tensors:
        return
    for dtype in dict.fromkeys(t.dtype for t in tensors):
        group = [t for t in tensors if t.dtype == dtype]
        flat = np.concatenate([t.data.reshape(-1) for t in group])
        dist.broadcast(flat, src=0)
        offsets = np.cumsum([0] + [t.data.size for t in group])
        for t, start, stop in zip(group, offsets[:-1], offsets[1:]):
            t.data[...] = flat[start:stop].reshape(t.shape)
            increment_version(t)
