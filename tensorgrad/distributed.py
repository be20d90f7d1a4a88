"""Process groups over MPI (mpi4py), with PyTorch's `torch.distributed` names::

    import tensorgrad.distributed as dist      # run with: mpiexec -n 4 python train.py
    dist.init_process_group(backend="mpi")     # a single process when not under mpiexec
    dist.all_reduce(t, op=dist.ReduceOp.SUM)   # in place on the Tensor t, on every rank

Every collective works in place on a Tensor's array (or a plain ndarray) and must be called
by every rank in the same order. MPI comes from the optional extra `distributed`
(`pip install "tensorgrad[distributed]"`: mpi4py and MPICH from PyPI, `mpiexec` included);
it is imported only when a process group is asked for. Once a group of more than one process
is set up, an uncaught exception on any rank prints its traceback and aborts every rank
(MPI_Abort), so a failure never leaves the others waiting in a collective.
"""
from __future__ import annotations

import enum
import os
import sys
import traceback

import numpy as np

from .autograd import increment_version
from .tensor import Tensor

__all__ = ["ReduceOp", "init_process_group", "is_initialized", "is_available",
           "launched_by_mpi", "get_rank", "get_world_size", "barrier", "all_reduce",
           "broadcast", "all_gather", "all_gather_object", "broadcast_object_list",
           "destroy_process_group", "abort"]

_INSTALL = 'pip install "tensorgrad[distributed]"   (mpi4py and MPICH)'
# set by the launchers of MPICH (hydra), Open MPI and PMIx for every process they start
_LAUNCHER_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


class ReduceOp(enum.Enum):
    """How `all_reduce` combines the ranks' values."""
    SUM = "SUM"
    AVG = "AVG"
    MAX = "MAX"
    MIN = "MIN"


class _Group:
    comm = None            # the MPI communicator of the default group, None when not set up
    previous_hook = None   # sys.excepthook before init_process_group replaced it


def is_available() -> bool:
    """Whether mpi4py can be imported (the `distributed` extra is installed)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def launched_by_mpi() -> bool:
    """Whether this process was started by an MPI launcher (mpiexec, mpirun, srun)."""
    return any(name in os.environ for name in _LAUNCHER_VARIABLES)


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"tensorgrad.distributed needs mpi4py and an MPI library: {_INSTALL} "
                          f"({e})") from None
    return MPI


def init_process_group(backend: str = "mpi", **_ignored) -> None:
    """Join the default process group: every process started by `mpiexec -n N`, ranks 0 to
    N-1; a single process (rank 0 of 1) when not started by mpiexec. Only the "mpi" backend
    exists; PyTorch's other arguments (init_method, world_size, rank, ...) are accepted and
    ignored, since the MPI launcher fixes them."""
    if backend != "mpi":
        raise ValueError(f"init_process_group: tensorgrad's only backend is 'mpi', got "
                         f"{backend!r}")
    if _Group.comm is not None:
        raise RuntimeError("init_process_group: the default process group is already "
                           "initialized (call destroy_process_group first)")
    _Group.comm = _mpi().COMM_WORLD.Dup()
    if _Group.comm.Get_size() > 1 and _Group.previous_hook is None:
        _Group.previous_hook, sys.excepthook = sys.excepthook, _abort_on_exception


def _abort_on_exception(kind, value, tb) -> None:
    """sys.excepthook of a multi-process group: print the traceback with the rank, then end
    every rank (the others may be waiting in a collective for this one)."""
    comm = _Group.comm
    rank = comm.Get_rank() if comm is not None else "?"
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(f"[rank {rank}] {text}")
    abort(130 if issubclass(kind, KeyboardInterrupt) else 1)


def abort(status: int = 1) -> None:
    """End every process of the MPI job now with exit status `status` (MPI_Abort), e.g.
    after an error on this rank that the others, waiting in a collective, cannot see."""
    rank = _Group.comm.Get_rank() if _Group.comm is not None else "?"
    sys.stderr.write(f"[rank {rank}] aborting every rank of the MPI job\n")
    sys.stderr.flush()
    sys.stdout.flush()
    _mpi().COMM_WORLD.Abort(status)


def is_initialized() -> bool:
    """Whether init_process_group was called (and destroy_process_group not since)."""
    return _Group.comm is not None


def _comm():
    if _Group.comm is None:
        raise RuntimeError("tensorgrad.distributed: the default process group has not been "
                           "initialized; call init_process_group() first")
    return _Group.comm


def get_rank() -> int:
    """This process's rank in the default group, 0 to get_world_size() - 1."""
    return _comm().Get_rank()


def get_world_size() -> int:
    """The number of processes in the default group."""
    return _comm().Get_size()


def barrier() -> None:
    """Wait until every rank has called barrier()."""
    _comm().Barrier()


def destroy_process_group() -> None:
    """Leave the default group (init_process_group may be called again)."""
    comm = _comm()
    comm.Free()
    _Group.comm = None
    if _Group.previous_hook is not None:
        sys.excepthook, _Group.previous_hook = _Group.previous_hook, None


def _array(tensor, name: str) -> np.ndarray:
    data = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(data, np.ndarray):
        raise TypeError(f"{name}: expected a Tensor or an ndarray, got {type(tensor).__name__}")
    return data


def _in_place(tensor, name: str, work) -> None:
    """Run work(buffer) on a contiguous buffer of tensor's memory, written back if it had to
    be a copy, and count the change in the tensor's version."""
    data = _array(tensor, name)
    buffer = data if data.flags.c_contiguous else np.ascontiguousarray(data)
    work(buffer)
    if buffer is not data:
        data[...] = buffer
    if isinstance(tensor, Tensor):
        increment_version(tensor)


def all_reduce(tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False) -> None:
    """Combine tensor over every rank with op (SUM, AVG, MAX, MIN) and leave the result, the
    same on every rank, in tensor (in place)."""
    comm = _comm()
    if not isinstance(op, ReduceOp):
        raise TypeError(f"all_reduce: op must be a ReduceOp (SUM, AVG, MAX, MIN), got {op!r}")
    data = _array(tensor, "all_reduce")
    if op is ReduceOp.AVG and not np.issubdtype(data.dtype, np.floating):
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating tensor, got {data.dtype}")
    if comm.Get_size() == 1:
        return
    MPI = _mpi()
    mpi_op = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX,
              ReduceOp.MIN: MPI.MIN}[op]

    def work(buffer):
        comm.Allreduce(MPI.IN_PLACE, buffer, op=mpi_op)
        if op is ReduceOp.AVG:
            buffer /= comm.Get_size()

    _in_place(tensor, "all_reduce", work)


def broadcast(tensor, src: int = 0, group=None, async_op: bool = False) -> None:
    """Copy rank src's tensor into tensor on every other rank (in place)."""
    comm = _comm()
    _check_rank(src, comm, "broadcast")
    if comm.Get_size() > 1:
        _in_place(tensor, "broadcast", lambda buffer: comm.Bcast(buffer, root=src))


def all_gather(tensor_list: list, tensor, group=None, async_op: bool = False) -> None:
    """Fill tensor_list (one Tensor per rank, each of tensor's shape and dtype) with every
    rank's tensor, in rank order."""
    comm = _comm()
    data = _array(tensor, "all_gather")
    if len(tensor_list) != comm.Get_size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors for "
                         f"{comm.Get_size()} ranks")
    for i, t in enumerate(tensor_list):
        out = _array(t, "all_gather")
        if out.shape != data.shape or out.dtype != data.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] is {out.dtype} of shape "
                             f"{out.shape}, the tensor is {data.dtype} of shape {data.shape}")
    gathered = np.empty((comm.Get_size(),) + data.shape, data.dtype)
    comm.Allgather(np.ascontiguousarray(data), gathered)
    for t, part in zip(tensor_list, gathered):
        _in_place(t, "all_gather", lambda buffer, part=part: np.copyto(buffer, part))


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Fill object_list (one slot per rank) with every rank's picklable obj, in rank order."""
    comm = _comm()
    if len(object_list) != comm.Get_size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} slots for "
                         f"{comm.Get_size()} ranks")
    object_list[:] = comm.allgather(obj)


def broadcast_object_list(object_list: list, src: int = 0, group=None) -> None:
    """Replace object_list's items on every rank by rank src's (picklable) items."""
    comm = _comm()
    _check_rank(src, comm, "broadcast_object_list")
    object_list[:] = comm.bcast(list(object_list), root=src)


def _check_rank(rank, comm, name: str) -> None:
    if not (isinstance(rank, (int, np.integer)) and 0 <= rank < comm.Get_size()):
        raise ValueError(f"{name}: src must be a rank from 0 to {comm.Get_size() - 1}, got "
                         f"{rank!r}")
