"""Checks run on every rank of `mpiexec -n 2 python tests/distributed_worker.py CHECK`
(started by tests/test_distributed.py). Each check compares the distributed result with the
same computation done in one process on the whole batch, inside this rank, so nothing has to
be compared across processes; it prints "ok CHECK rank R" when it passes."""
import sys

import numpy as np

import tensorgrad as tg
import tensorgrad.distributed as dist
import tensorgrad.functional as F
from tensorgrad import nn, optim
from tensorgrad.nn.parallel import DistributedDataParallel

B = 12   # the global batch


def net(seed: int, batchnorm: bool = False):
    tg.manual_seed(seed)
    layers = [nn.Conv2d(2, 3, 3, padding=1), nn.ReLU()]
    if batchnorm:
        layers.append(nn.BatchNorm2d(3))
    layers += [nn.Flatten(), nn.Linear(3 * 5 * 4, 4)]
    return nn.Sequential(*layers).to("float64")


def data(step: int):
    rng = np.random.default_rng(100 + step)
    return rng.standard_normal((B, 2, 5, 4)), rng.integers(0, 4, B)


def shard(array, rank, world):
    per = len(array) // world
    return array[rank * per:(rank + 1) * per]


def check_collectives(rank, world):
    t = tg.tensor(np.arange(6.0).reshape(2, 3) * (rank + 1))
    version = t._version_counter.value
    dist.all_reduce(t)
    assert np.array_equal(t.data, np.arange(6.0).reshape(2, 3) * 3)
    assert t._version_counter.value == version + 1
    for op, expected in ((dist.ReduceOp.AVG, 1.5), (dist.ReduceOp.MAX, 2.0),
                         (dist.ReduceOp.MIN, 1.0), (dist.ReduceOp.SUM, 3.0)):
        t = tg.tensor([float(rank + 1)] * 4)
        dist.all_reduce(t, op=op)
        assert np.array_equal(t.data, [expected] * 4), (op, t.data)
    column = tg.tensor(np.full((3, 2), float(rank)))[:, 1:]   # not contiguous
    dist.all_reduce(column)
    assert np.array_equal(column.data, np.full((3, 1), 1.0))
    t = tg.tensor([rank * 10.0, 7.0])
    dist.broadcast(t, src=1)
    assert np.array_equal(t.data, [10.0, 7.0])
    gathered = [tg.zeros(2, dtype="float64") for _ in range(world)]
    dist.all_gather(gathered, tg.tensor([rank, -rank], dtype="float64"))
    assert [g.tolist() for g in gathered] == [[0.0, 0.0], [1.0, -1.0]]
    objects = [None] * world
    dist.all_gather_object(objects, {"rank": rank})
    assert objects == [{"rank": 0}, {"rank": 1}]
    dist.barrier()


def check_wrap(rank, world):
    model = DistributedDataParallel(net(seed=rank))   # different weights on each rank
    reference = net(seed=0)
    for (name, p), (_, q) in zip(model.module.named_parameters(), reference.named_parameters()):
        assert np.array_equal(p.data, q.data), name
    assert list(model.state_dict()) == ["module." + k for k in reference.state_dict()]
    assert model.module is not reference and isinstance(model.module, nn.Sequential)


def check_mismatch(rank, world):
    for other, message in (
            (nn.Linear(4, 3 if rank == 0 else 2), "the model on rank 1 differs from rank 0's: "
             "rank 0 has 'weight' float64 of shape (3, 4) where rank 1 has 'weight' float64 of "
             "shape (2, 4)"),
            (nn.Sequential(nn.Linear(4, 3), *([nn.Linear(3, 2)] if rank == 0 else [])),
             "the model on rank 1 differs from rank 0's: only rank 0 has '1.weight'")):
        try:
            DistributedDataParallel(other)
        except ValueError as e:
            assert message in str(e), str(e)
        else:
            raise AssertionError("no error for models that differ")


def train(make_optimizer, world_batch: bool, rank, world, steps=4, batchnorm=False):
    """The weights after `steps` steps: DDP on this rank's shard, or one process on all."""
    model = net(seed=3, batchnorm=batchnorm)
    if world_batch:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = DistributedDataParallel(model)
    opt = make_optimizer(model.parameters())
    for step in range(steps):
        x, y = data(step)
        if world_batch:
            x, y = shard(x, rank, world), shard(y, rank, world)
        opt.zero_grad()
        F.cross_entropy(model(tg.tensor(x)), tg.tensor(y)).backward()
        opt.step()
    module = model.module if world_batch else model
    return {k: np.array(v) for k, v in module.state_dict().items()}, model


def check_ddp_equals_one_process(rank, world):
    optimizers = {"sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                  "adam": lambda p: optim.Adam(p, lr=0.01)}
    for name, make in optimizers.items():
        for batchnorm in (False, True):
            got, model = train(make, True, rank, world, batchnorm=batchnorm)
            want, _ = train(make, False, rank, world, batchnorm=batchnorm)
            assert model.reduce_calls == 4   # one Allreduce per step (one dtype)
            for key in want:
                np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-10,
                                           err_msg=f"{name} batchnorm={batchnorm} {key}")


def check_unused_parameters_and_no_sync(rank, world):
    model = DistributedDataParallel(nn.ModuleList([nn.Linear(3, 2), nn.Linear(3, 2),
                                                   nn.Linear(3, 2)]))
    first, second, never = model.module
    x = tg.ones(4, 3) * (rank + 1)
    out = first(x).sum() + (second(x).sum() if rank == 0 else 0)
    out.backward()   # `second` has a gradient on rank 0 only, `never` on no rank
    assert model.reduce_calls == 1
    np.testing.assert_allclose(first.weight.grad.data, np.full((2, 3), (4 + 8) / 2))
    np.testing.assert_allclose(second.weight.grad.data, np.full((2, 3), 4 / 2))  # 0 on rank 1
    assert never.weight.grad is None
    model.zero_grad()
    with model.no_sync():   # accumulate locally, then one averaging covers both passes
        first(x).sum().backward()
    assert model.reduce_calls == 1
    np.testing.assert_allclose(first.weight.grad.data, np.full((2, 3), 4.0 * (rank + 1)))
    first(x).sum().backward()
    assert model.reduce_calls == 2
    np.testing.assert_allclose(first.weight.grad.data, np.full((2, 3), (8 + 16) / 2))


def check_sync_batchnorm(rank, world):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 3, 4, 5)) * 2 + 1
    upstream = rng.standard_normal(x.shape)
    results = []
    for sync in (True, False):
        tg.manual_seed(0)
        bn = nn.BatchNorm2d(3).to("float64")
        bn.weight.data[:] = [0.5, 2.0, -1.0]
        if sync:
            bn = nn.SyncBatchNorm.convert_sync_batchnorm(bn)
            assert isinstance(bn, nn.SyncBatchNorm)
        part = shard(x, rank, world) if sync else x
        xt = tg.tensor(part, requires_grad=True)
        out = bn(xt)
        (out * tg.tensor(shard(upstream, rank, world) if sync else upstream)).sum().backward()
        grads = [bn.weight.grad.data.copy(), bn.bias.grad.data.copy()]
        if sync:   # the weight and bias gradients are per rank: their sum is the whole batch's
            for g in grads:
                dist.all_reduce(g)
        results.append((out.data, xt.grad.data, grads, bn.running_mean.data.copy(),
                        bn.running_var.data.copy()))
    (out, dx, grads, mean, var), (out1, dx1, grads1, mean1, var1) = results
    np.testing.assert_allclose(out, shard(out1, rank, world), atol=1e-12)
    np.testing.assert_allclose(dx, shard(dx1, rank, world), atol=1e-12)
    for g, g1 in zip(grads, grads1):
        np.testing.assert_allclose(g, g1, atol=1e-12)
    np.testing.assert_allclose(mean, mean1, atol=1e-12)
    np.testing.assert_allclose(var, var1, atol=1e-12)


def check_sampler_defaults(rank, world):
    from tensorgrad.data import DistributedSampler, TensorDataset
    ds = TensorDataset(np.zeros((7, 1), np.float32), np.arange(7))
    sampler = DistributedSampler(ds, seed=3)
    assert (sampler.num_replicas, sampler.rank, len(sampler)) == (world, rank, 4)
    mine = tg.tensor(sampler.indices())
    both = [tg.zeros(4, dtype="int64") for _ in range(world)]
    dist.all_gather(both, mine)
    assert sorted(set(np.concatenate([b.data for b in both]).tolist())) == list(range(7))


def check_raise(rank, world):
    dist.barrier()
    if rank == 1:
        raise RuntimeError("rank 1 fails on purpose")
    dist.barrier()   # rank 0 would wait here forever without the abort


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}

def cli(argv):
    """`tensorgrad` on synthetic data (as tests/test_cli.py's), optionally interrupted by
    Ctrl-C at the start of epoch 2 on every rank; exits with its status."""
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from test_train import synthetic
    from tensorgrad.app import cli as command, train
    train.load_dataset = lambda config, is_train: synthetic(64 if is_train else 40, (1, 28, 28),
                                                            classes=10, seed=0 if is_train else 1)
    if argv[0] == "--interrupt-at-epoch-2":
        argv = argv[1:]
        original = train.Trainer.train_epoch

        def train_epoch(self):
            if self.epoch == 1:
                raise KeyboardInterrupt
            return original(self)
        train.Trainer.train_epoch = train_epoch
    sys.exit(command.main(argv))


if __name__ == "__main__":
    if sys.argv[1] == "cli":
        cli(sys.argv[2:])
    tg.set_default_dtype("float64")
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    assert world == 2, world
    for name in sys.argv[1:]:
        CHECKS[name](rank, world)
        print(f"ok {name} rank {rank}", flush=True)
