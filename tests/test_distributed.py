"""Data parallelism over MPI: tensorgrad.distributed, DistributedDataParallel, SyncBatchNorm,
DistributedSampler and `tensorgrad train --workers`. The multi-process checks run in
`mpiexec -n 2` launches of tests/distributed_worker.py (several checks per launch); each
rank compares with the one-process computation on the whole batch (float64)."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.distributed as dist
from tensorgrad.data import DataLoader, DistributedSampler, TensorDataset

HERE = Path(__file__).parent
MPIEXEC = shutil.which("mpiexec", path=f"{Path(sys.executable).parent}{os.pathsep}"
                                       f"{os.environ.get('PATH', '')}")
needs_mpi = pytest.mark.skipif(not (dist.is_available() and MPIEXEC),
                               reason="mpi4py or mpiexec is not installed (the 'distributed' "
                                      "extra: pip install -e '.[distributed]')")
TIMEOUT = 120   # generous: the machine may be loaded


def mpiexec(*args, n=2, timeout=TIMEOUT, env=None):
    environment = dict(os.environ, PYTHONPATH=str(HERE.parent), OPENBLAS_NUM_THREADS="1",
                       **(env or {}))
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=environment)


@needs_mpi
def test_two_ranks_equal_one_process():
    checks = ["collectives", "wrap", "mismatch", "ddp_equals_one_process", "sync_batchnorm",
              "unused_parameters_and_no_sync", "sampler_defaults"]
    result = mpiexec(HERE / "distributed_worker.py", *checks)
    assert result.returncode == 0, result.stdout + result.stderr
    for check in checks:
        for rank in (0, 1):
            assert f"ok {check} rank {rank}" in result.stdout, result.stdout + result.stderr


@needs_mpi
def test_a_rank_that_raises_ends_every_rank_with_its_message():
    start = time.perf_counter()
    result = mpiexec(HERE / "distributed_worker.py", "raise")
    assert result.returncode != 0
    assert "RuntimeError: rank 1 fails on purpose" in result.stdout + result.stderr
    assert "[rank 1]" in result.stdout + result.stderr
    assert time.perf_counter() - start < 60   # rank 0 was waiting in a barrier: not a hang


@needs_mpi
def test_one_process_without_mpiexec():
    code = ("import tensorgrad as tg, tensorgrad.distributed as dist\n"
            "from tensorgrad import nn\n"
            "from tensorgrad.nn.parallel import DistributedDataParallel\n"
            "assert not dist.is_initialized()\n"
            "dist.init_process_group()\n"
            "assert (dist.get_rank(), dist.get_world_size()) == (0, 1)\n"
            "t = tg.tensor([1.0, 2.0]); dist.all_reduce(t, op=dist.ReduceOp.AVG)\n"
            "assert t.tolist() == [1.0, 2.0]\n"
            "model = DistributedDataParallel(nn.Linear(3, 2))\n"
            "model(tg.ones(4, 3)).sum().backward()\n"
            "assert model.reduce_calls == 0 and model.module.weight.grad.shape == (2, 3)\n"
            "dist.destroy_process_group(); assert not dist.is_initialized()\n"
            "print('single ok')")
    env = {k: v for k, v in os.environ.items() if k not in dist._LAUNCHER_VARIABLES}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=TIMEOUT, env=dict(env, PYTHONPATH=str(HERE.parent)))
    assert result.returncode == 0 and "single ok" in result.stdout, result.stderr


def test_without_mpi4py_the_error_names_the_extra():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import tensorgrad.distributed as dist\n"
            "assert not dist.is_available()\n"
            "try:\n    dist.init_process_group()\n"
            "except ImportError as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=TIMEOUT, env=dict(os.environ, PYTHONPATH=str(HERE.parent)))
    assert 'pip install "tensorgrad[distributed]"' in result.stdout, result.stderr


def test_collectives_need_a_process_group():
    with pytest.raises(RuntimeError, match="the default process group has not been "
                                           "initialized; call init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="tensorgrad's only backend is 'mpi', got 'gloo'"):
        dist.init_process_group("gloo")


# ---------------------------------------------------------------------------- sampler


def dataset(n):
    return TensorDataset(np.zeros((n, 1), np.float32), np.arange(n))


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (12, 4, False),
                                                    (2, 5, False), (7, 2, True), (0, 2, False)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_sampler_shards_are_equal_disjoint_and_cover(n, replicas, drop_last, shuffle):
    shards = [DistributedSampler(dataset(n), replicas, r, shuffle=shuffle, seed=5,
                                 drop_last=drop_last).indices() for r in range(replicas)]
    sizes = {len(s) for s in shards}
    assert len(sizes) == 1
    order = np.stack(shards, axis=1).reshape(-1)   # the common order, interleaved back
    if drop_last:
        assert len(order) == (n // replicas) * replicas and len(set(order.tolist())) == len(order)
    else:
        assert len(order) == -(-n // replicas) * replicas and set(order.tolist()) == set(range(n))
        first = order[:n]      # the order itself, then its start repeated as padding
        assert sorted(first.tolist()) == list(range(n))
        np.testing.assert_array_equal(order[n:], np.resize(first, len(order) - n)
                                      if len(order) > n else [])
    if not shuffle:
        np.testing.assert_array_equal(order[:min(n, len(order))], np.arange(min(n, len(order))))


def test_sampler_epochs_and_seeds():
    s = DistributedSampler(dataset(50), 2, 0, seed=1)
    first = s.indices()
    s.set_epoch(1)
    assert not np.array_equal(first, s.indices())
    s.set_epoch(0)
    np.testing.assert_array_equal(first, s.indices())
    other = DistributedSampler(dataset(50), 2, 0, seed=2)
    assert not np.array_equal(first, other.indices())
    assert list(s) == s.indices().tolist() and len(s) == 25


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (12, 4, True),
                                                    (2, 5, False), (7, 2, True)])
def test_sampler_matches_torch_structure(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler
    for rank in range(replicas):
        ours = DistributedSampler(dataset(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(list(range(n)), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)   # the same indices
        shuffled = TorchSampler(list(range(n)), replicas, rank, shuffle=True, seed=3,
                                drop_last=drop_last)
        assert len(DistributedSampler(dataset(n), replicas, rank, drop_last=drop_last)) == \
            len(list(shuffled))


def test_sampler_feeds_a_loader():
    ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(10, 1), np.arange(10))
    seen = []
    for rank in range(2):
        sampler = DistributedSampler(ds, 2, rank, seed=0)
        loader = DataLoader(ds, batch_size=2, sampler=sampler)
        assert len(loader) == 3
        seen += [y for _, batch in loader for y in batch.tolist()]
    assert sorted(seen) == list(range(10))


def test_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"DistributedSampler: rank must be in \[0, 1\] for 2 "
                                         r"replicas, got 2"):
        DistributedSampler(dataset(4), 2, 2)
    with pytest.raises(ValueError, match="DistributedSampler: num_replicas must be a positive "
                                         "int, got 0"):
        DistributedSampler(dataset(4), 0, 0)


# ---------------------------------------------------------------------------- tensorgrad train

TINY = ("--epochs", 2, "--batch-size", 16, "--lr", 3e-3, "--seed", 5)


@needs_mpi
def test_train_under_mpiexec_resumes_to_the_uninterrupted_weights(tmp_path):
    from tensorgrad.app.train import METRICS, load_checkpoint, read_metrics
    worker = HERE / "distributed_worker.py"
    straight = mpiexec(worker, "cli", "train", *TINY, "--out", tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr
    assert straight.stdout.count("epoch 2/2  train loss") == 1   # rank 0 alone reports
    cut = mpiexec(worker, "cli", "--interrupt-at-epoch-2", "train", *TINY, "--out",
                  tmp_path / "cut")
    assert cut.returncode == 130, cut.stdout + cut.stderr
    assert "interrupted during epoch 2: the checkpoint of epoch 1 is in" in cut.stderr
    assert load_checkpoint(tmp_path / "cut")["epoch"] == 1     # the last good one, intact
    resumed = mpiexec(worker, "cli", "train", "--out", tmp_path / "cut", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {tmp_path / 'cut'} after epoch 1" in resumed.stdout
    a, b = load_checkpoint(tmp_path / "straight"), load_checkpoint(tmp_path / "cut")
    assert a["config"].workers == b["config"].workers == 2
    for name, value in a["model"].items():
        np.testing.assert_array_equal(b["model"][name], value, err_msg=name)
    rows = read_metrics(tmp_path / "cut" / METRICS)
    np.testing.assert_array_equal(rows["train_loss"], read_metrics(tmp_path / "straight" /
                                                                   METRICS)["train_loss"])


@needs_mpi
def test_train_workers_starts_mpiexec_itself(tmp_path):
    from tensorgrad.data import MNIST
    try:
        MNIST(train=False)
    except (OSError, ValueError) as e:
        pytest.skip(f"MNIST is not available through TENSORGRAD_DATA ({e})")
    env = {k: v for k, v in os.environ.items() if k not in dist._LAUNCHER_VARIABLES}
    command = [sys.executable, "-m", "tensorgrad", "train", "--workers", "2", "--epochs", "1",
               "--train-size", "512", "--test-size", "200", "--out", str(tmp_path / "run")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                            env=dict(env, PYTHONPATH=str(HERE.parent)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("epoch 1/1  train loss") == 1
    assert (tmp_path / "run" / "metrics.csv").is_file()
    bad = subprocess.run(command[:-1] + [str(tmp_path / "bad"), "--batch-size", "63"],
                         capture_output=True, text=True, timeout=TIMEOUT,
                         env=dict(env, PYTHONPATH=str(HERE.parent)))
    assert bad.returncode == 1 and "--batch-size 63 does not split evenly over 2 workers" in \
        bad.stderr and not (tmp_path / "bad").exists()
