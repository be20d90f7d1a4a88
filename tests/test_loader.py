"""DataLoader: batching, scaling, shuffling, determinism, and checkpoint/resume."""
import json
import re
from types import SimpleNamespace

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.data import DataLoader, TensorDataset
from tensorgrad.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip

N = 10


@pytest.fixture
def ds():
    """N samples (1, 3, 2) whose pixels and label identify the sample."""
    images = (np.arange(N * 6).reshape(N, 1, 3, 2) * 4 % 256).astype(np.uint8)
    return TensorDataset(images, np.arange(N)[::-1].copy())


def epoch(loader):
    return [(x.data.copy(), y.data.copy()) for x, y in loader]


@pytest.mark.parametrize("batch_size, drop_last, sizes", [
    (4, False, [4, 4, 2]), (4, True, [4, 4]), (5, True, [5, 5]), (1, False, [1] * N),
    (N + 3, False, [N]), (N + 3, True, []),
])
def test_batches_in_order(ds, batch_size, drop_last, sizes):
    loader = DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    batches = epoch(loader)
    assert len(loader) == len(sizes) and [len(y) for _, y in batches] == sizes
    for (x, y), start in zip(batches, np.cumsum([0] + sizes[:-1])):
        stop = start + len(y)
        assert x.dtype == np.float32 and x.shape == (len(y), 1, 3, 2) and y.dtype == np.int64
        np.testing.assert_array_equal(x, ds.images[start:stop].astype(np.float32) / np.float32(255))
        np.testing.assert_array_equal(y, ds.labels[start:stop])


def test_yields_tensors_scaled_to_unit_range():
    images = np.array([0, 1, 128, 254, 255], np.uint8).reshape(5, 1, 1, 1)
    x, y = next(iter(DataLoader(TensorDataset(images, np.arange(5)), batch_size=5)))
    assert isinstance(x, tg.Tensor) and isinstance(y, tg.Tensor) and not x.requires_grad
    np.testing.assert_array_equal(x.data.ravel(), np.array([0, 1, 128, 254, 255], np.float32) / 255)
    assert x.data.min() == 0.0 and x.data.max() == 1.0


def test_batches_are_copies(ds):
    x, y = next(iter(DataLoader(ds, batch_size=3)))
    x.data[:] = 7
    y.data[:] = 7
    assert ds.labels[0] == N - 1 and ds.images.max() > 0


def test_floating_images_keep_values_and_dtype():
    images = np.random.default_rng(0).standard_normal((4, 3))
    x, _ = next(iter(DataLoader(TensorDataset(images, np.arange(4)), batch_size=4)))
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x.data, images)


def test_shuffle_permutes_and_keeps_pairs(ds):
    loader = DataLoader(ds, batch_size=3, shuffle=True, seed=5)
    orders = []
    for _ in range(3):
        xs, ys = zip(*epoch(loader))
        x, y = np.concatenate(xs), np.concatenate(ys)
        assert sorted(y.tolist()) == list(range(N))
        np.testing.assert_array_equal(x, ds.images[N - 1 - y] / np.float32(255))  # pairs kept
        orders.append(y.tolist())
    assert orders[0] != orders[1] != orders[2]


def test_each_epoch_is_a_permutation_from_the_seeded_generator(ds):
    loader = DataLoader(ds, batch_size=4, shuffle=True, seed=123)
    reference = np.random.default_rng(123)
    for _ in range(2):
        y = np.concatenate([y for _, y in epoch(loader)])
        np.testing.assert_array_equal(y, ds.labels[reference.permutation(N)])


def test_same_seed_same_order_other_seed_differs(ds):
    a, b, c = (DataLoader(ds, batch_size=4, shuffle=True, seed=s) for s in (1, 1, 2))
    ya, yb, yc = ([y.tolist() for _, y in epoch(l) + epoch(l)] for l in (a, b, c))
    assert ya == yb and ya != yc


def test_seed_none_follows_the_global_generator(ds):
    def order(seed):
        tg.manual_seed(seed)
        return [y.tolist() for _, y in epoch(DataLoader(ds, batch_size=N, shuffle=True))]
    assert order(0) == order(0) and order(0) != order(1)


def test_no_shuffle_leaves_the_global_generator_alone(ds):
    tg.manual_seed(3)
    state = tg.get_rng_state()
    epoch(DataLoader(ds, batch_size=4))
    assert tg.get_rng_state() == state


def test_permutation_drawn_at_iter_time(ds):
    loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    before = loader.generator.bit_generator.state
    iterator = iter(loader)
    assert loader.generator.bit_generator.state != before
    assert len(list(iterator)) == 3


def _augmenting_loader(ds, seed):
    transform = Compose([RandomCrop((2, 2), padding=(1, 0), seed=seed + 1),
                         RandomHorizontalFlip(seed=seed + 2), Normalize(0.5, 0.25),
                         lambda x: x * 2])
    return DataLoader(ds, batch_size=4, shuffle=True, seed=seed, transform=transform)


def take(loader, count, iterator=None):
    """The next `count` batches, going on into new epochs (each a new iter())."""
    batches, iterator = [], iterator or iter(loader)
    while True:
        for x, y in iterator:
            if len(batches) == count:
                return batches
            batches.append((x.data.copy(), y.data.copy()))
        iterator = iter(loader)


@pytest.mark.parametrize("taken", [0, 1, 2, 3])  # an epoch has 3 batches
def test_state_dict_resumes_bit_for_bit(ds, taken):
    loader = _augmenting_loader(ds, seed=0)
    epoch(loader)
    iterator = iter(loader)
    for _ in range(taken):
        next(iterator)
    state = json.loads(json.dumps(loader.state_dict()))  # plain, serializable values
    assert state["batch"] == taken % 3
    expected = take(loader, 5, iterator)
    resumed = _augmenting_loader(ds, seed=99)
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    got = take(resumed, 5)
    for (xe, ye), (xg, yg) in zip(expected, got, strict=True):
        np.testing.assert_array_equal(xg, xe)
        np.testing.assert_array_equal(yg, ye)
    other = take(_augmenting_loader(ds, seed=99), 5)
    assert not all(np.array_equal(o[0], e[0]) for o, e in zip(other, expected))


def test_abandoned_epoch_is_not_resumed(ds):
    loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    abandoned = iter(loader)
    next(abandoned)
    assert [len(y) for _, y in loader] == [4, 4, 2]
    assert loader.state_dict()["batch"] == 0
    fresh = iter(loader)
    next(abandoned)  # the latest epoch is the one the state follows
    assert loader.state_dict()["batch"] == 0
    next(fresh)
    assert loader.state_dict()["batch"] == 1


def test_state_dict_without_shuffle_or_transform(ds):
    loader = DataLoader(ds, batch_size=4)
    assert loader.state_dict() == {"rng": None, "batch": 0, "transform": None}
    iterator = iter(loader)
    next(iterator)
    state = loader.state_dict()
    assert state == {"rng": None, "batch": 1, "transform": None}
    rest = [y.tolist() for _, y in iterator]
    resumed = DataLoader(ds, batch_size=4)
    resumed.load_state_dict(state)
    assert [y.tolist() for _, y in resumed] == rest
    assert len(epoch(resumed)) == 3


def test_load_state_dict_rejects_mismatched_state(ds):
    state = DataLoader(ds, batch_size=4, shuffle=True, seed=0).state_dict()
    with pytest.raises(ValueError, match=re.escape("DataLoader: the state comes from a loader with "
                                                   "shuffle=True, this one has shuffle=False")):
        DataLoader(ds, batch_size=4).load_state_dict(state)
    with pytest.raises(ValueError, match=re.escape("DataLoader: the state is at batch 4 but an "
                                                   "epoch here has 2 batches")):
        DataLoader(ds, batch_size=5, shuffle=True).load_state_dict(dict(state, batch=4))


def test_transform_applies_to_the_scaled_batch(ds):
    normalize = Normalize(0.25, 0.5)
    x, _ = next(iter(DataLoader(ds, batch_size=4, transform=normalize)))
    np.testing.assert_array_equal(x.data, normalize(ds.images[:4] / np.float32(255)))


def test_accepts_any_object_with_images_and_labels():
    data = SimpleNamespace(images=np.zeros((3, 2), np.float32),
                           labels=np.array([2, 0, 1], np.uint8))
    batches = epoch(DataLoader(data, batch_size=2))
    assert [y.tolist() for _, y in batches] == [[2, 0], [1]] and batches[0][1].dtype == np.int64


def test_empty_dataset():
    empty = TensorDataset(np.zeros((0, 1, 2, 2), np.uint8), np.zeros(0, int))
    loader = DataLoader(empty, 4, shuffle=True, seed=0)
    assert len(loader) == 0 and epoch(loader) == []


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, "4"])
def test_rejects_bad_batch_size(ds, batch_size):
    message = f"DataLoader: batch_size must be a positive int, got {batch_size!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        DataLoader(ds, batch_size=batch_size)


def test_rejects_bad_datasets():
    with pytest.raises(TypeError, match="DataLoader: the dataset must be map-style .* or have "
                                        "`images` and `labels` arrays, got int"):
        DataLoader(42, batch_size=1)
    bad = SimpleNamespace(images=np.zeros((3, 2), np.uint8), labels=np.arange(4))
    with pytest.raises(ValueError, match=re.escape("DataLoader: 3 images but 4 labels")):
        DataLoader(bad)
    bad = SimpleNamespace(images=np.zeros((3, 2), np.int32), labels=np.arange(3))
    with pytest.raises(TypeError, match="DataLoader: images must be a uint8 or floating array"):
        DataLoader(bad)


class ListSampler:
    """The simplest sampler: a fixed list of indices (repeats allowed)."""
    def __init__(self, indices):
        self.indices = list(indices)

    def __iter__(self):
        return iter(self.indices)

    def __len__(self):
        return len(self.indices)


@pytest.mark.parametrize("drop_last, sizes", [(False, [3, 3, 1]), (True, [3, 3])])
def test_sampler_sets_the_order(ds, drop_last, sizes):
    order = [7, 2, 2, 9, 0, 5, 1]
    loader = DataLoader(ds, batch_size=3, drop_last=drop_last, sampler=ListSampler(order))
    batches = epoch(loader)
    assert len(loader) == len(sizes) and [len(y) for _, y in batches] == sizes
    got = np.concatenate([y for _, y in batches])
    np.testing.assert_array_equal(got, ds.labels[order[:len(got)]])
    np.testing.assert_array_equal(batches[0][0], ds.images[[7, 2, 2]] / np.float32(255))


def test_sampler_resumes_mid_epoch(ds):
    loader = DataLoader(ds, batch_size=2, sampler=ListSampler([4, 3, 8, 1, 0, 6]))
    it = iter(loader)
    next(it)
    state = json.loads(json.dumps(loader.state_dict()))
    rest = epoch(DataLoader(ds, batch_size=2, sampler=ListSampler([4, 3, 8, 1, 0, 6])))[1:]
    again = DataLoader(ds, batch_size=2, sampler=ListSampler([4, 3, 8, 1, 0, 6]))
    again.load_state_dict(state)
    assert [y.tolist() for _, y in epoch(again)] == [y.tolist() for _, y in rest]


def test_sampler_errors(ds):
    with pytest.raises(ValueError, match="DataLoader: sampler and shuffle=True exclude each other"):
        DataLoader(ds, batch_size=2, shuffle=True, sampler=ListSampler([0]))
    with pytest.raises(IndexError, match=f"DataLoader: the sampler gave index -1 for a dataset "
                                         f"of {N} samples"):
        epoch(DataLoader(ds, batch_size=2, sampler=ListSampler([0, -1])))
    with pytest.raises(IndexError, match=f"the sampler gave index {N} for"):
        epoch(DataLoader(ds, batch_size=2, sampler=ListSampler([N])))
    class Short(ListSampler):
        def __len__(self):
            return 3
    with pytest.raises(ValueError, match="DataLoader: the sampler gave 2 indices but its len"):
        epoch(DataLoader(ds, batch_size=2, sampler=Short([0, 1])))
