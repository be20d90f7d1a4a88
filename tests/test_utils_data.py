"""PyTorch's data pipeline (tensorgrad.utils.data): the same batches as torch.utils.data for the
same sampler order, default collate of nested samples, samplers, Subset and random_split,
per-item transforms with torchvision's semantics (torchvision is not installed: expectations
are computed by hand and with torch ops), and datasets with transforms and torchvision's
file layout."""
import collections
import gzip
import os
import pickle
import re
import urllib.error

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.data.cifar as cifar_module
import tensorgrad.data.download as dl
from tensorgrad.data import CIFAR10, MNIST, CIFARError, VisionDataset, read_cifar_batch, transforms
from tensorgrad.utils.data import (BatchSampler, DataLoader, Dataset, RandomSampler,
                                   SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                                   default_collate, random_split)
from test_cifar import cifar_archive, make_batch, random_images
from test_datasets import write_fake_mnist

Point = collections.namedtuple("Point", "x y")


def to_numpy(value):
    """A batch (from either framework) as nested plain values, arrays for tensors."""
    if isinstance(value, tg.Tensor):
        return ("tensor", value.data)
    if type(value).__module__.startswith("torch"):
        return ("tensor", value.numpy())
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, [to_numpy(v) for v in value])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [to_numpy(v) for v in value])
    return value


def assert_same(ours, theirs):
    """Same structure, container types, dtypes and values."""
    a, b = to_numpy(ours), to_numpy(theirs)
    _assert_same(a, b, "batch")


def _assert_same(a, b, where):
    if isinstance(a, tuple) and a and a[0] == "tensor":
        assert isinstance(b, tuple) and b[0] == "tensor", where
        assert a[1].dtype == b[1].dtype and a[1].shape == b[1].shape, (where, a[1].dtype, b[1].dtype)
        np.testing.assert_array_equal(a[1], b[1], err_msg=where)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and a[0] == b[0] and len(a[1]) == len(b[1]), (where, a, b)
        for i, (x, y) in enumerate(zip(a[1], b[1])):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


class Records:
    """A plain map-style dataset (no base class) of nested samples: what a user writes."""

    def __init__(self, n=11):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((n, 2, 3)).astype(np.float32)
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": self.x[i], "pair": (i, float(i) / 4),
                "point": Point(np.int32(i), np.float64(i * 2)), "name": f"s{i}",
                "parts": [self.x[i, 0], np.array([i, -i], np.int16)]}


# ------------------------------------------------------------------ the same batches as PyTorch

@pytest.mark.parametrize("batch_size, drop_last", [(4, False), (4, True), (1, False), (20, False)])
def test_same_batches_as_torch_for_the_same_sampler_order(batch_size, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    n = 11
    order = np.random.default_rng(1).permutation(n).tolist()
    rng = np.random.default_rng(2)
    x, target = rng.standard_normal((n, 3, 4)), rng.standard_normal(n).astype(np.float32)
    labels = rng.integers(0, 5, n)
    cases = [(TensorDataset(x, target, labels),
              tdata.TensorDataset(*map(torch.from_numpy, (x, target, labels)))),
             (Records(n), Records(n))]
    for ours_ds, torch_ds in cases:
        ours = DataLoader(ours_ds, batch_size=batch_size, sampler=order, drop_last=drop_last)
        theirs = tdata.DataLoader(torch_ds, batch_size=batch_size, sampler=order,
                                  drop_last=drop_last)
        assert len(ours) == len(theirs)
        batches = list(zip(ours, theirs, strict=True))
        assert len(batches) == len(theirs) > 0 or drop_last
        for a, b in batches:
            assert_same(a, b)


def test_same_batches_as_torch_with_a_batch_sampler_and_collate_fn():
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    batches = [[3, 0], [5, 1, 2], [4]]
    x = np.arange(6 * 2, dtype=np.float64).reshape(6, 2)

    def collate(samples):  # ours gets ndarrays, torch's gets tensors: sum each batch
        return [float(np.asarray(s[0]).sum()) for s in samples]

    ours = list(DataLoader(TensorDataset(x), batch_sampler=batches, collate_fn=collate))
    theirs = list(tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x)),
                                   batch_sampler=batches, collate_fn=collate))
    assert ours == theirs and len(ours) == 3
    assert_same(next(iter(DataLoader(TensorDataset(x), batch_sampler=batches))),
                next(iter(tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x)),
                                           batch_sampler=batches))))


def test_default_collate_of_nested_samples_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    samples = [Records()[i] for i in (4, 0, 7)]
    ours = default_collate(samples)
    assert_same(ours, torch_collate(samples))
    assert ours["x"].dtype == np.float32 and ours["pair"][0].dtype == np.int64
    assert ours["pair"][1].dtype == np.float64 and ours["name"] == ["s4", "s0", "s7"]
    assert isinstance(ours["point"], Point) and ours["point"].x.dtype == np.int32
    for scalars in ([True, False], [np.float32(1.5), np.float32(2)], [3, 4]):
        assert_same(default_collate(scalars), torch_collate(scalars))
    tensors = [tg.tensor([[1.0, 2.0]]), tg.tensor([[3.0, 4.0]])]
    np.testing.assert_array_equal(default_collate(tensors).data, [[[1, 2]], [[3, 4]]])


def test_default_collate_errors_name_the_problem():
    with pytest.raises(RuntimeError, match=re.escape(
            "default_collate: cannot stack samples of different shapes [(2,), (3,)]")):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="each sample must have the same length, got "
                                           r"lengths \[1, 2\]"):
        default_collate([(1,), (1, 2)])
    with pytest.raises(TypeError, match="default_collate: samples must be .* got object"):
        default_collate([object()])
    with pytest.raises(TypeError, match="default_collate: expected a non-empty list"):
        default_collate([])


# ------------------------------------------------------------------ samplers

def test_samplers_orders():
    data = list(range(7))
    assert list(SequentialSampler(data)) == data and len(SequentialSampler(data)) == 7
    sampler = RandomSampler(data, generator=3)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == data and first != second
    assert first == np.random.default_rng(3).permutation(7).tolist()
    assert list(RandomSampler(data, generator=3)) == first  # a seed reproduces the order
    drawn = list(RandomSampler(data, replacement=True, num_samples=50, generator=0))
    assert len(drawn) == 50 and set(drawn) <= set(data) and len(set(drawn)) < 50
    longer = list(RandomSampler(data, num_samples=10, generator=0))
    assert len(longer) == 10 and sorted(longer[:7]) == data
    subset = SubsetRandomSampler([10, 20, 30, 40], generator=1)
    assert sorted(subset) == [10, 20, 30, 40] and len(subset) == 4


@pytest.mark.parametrize("n, size, drop_last", [(10, 3, False), (10, 3, True), (9, 3, True),
                                                 (2, 5, False), (2, 5, True)])
def test_batch_sampler_matches_torch(n, size, drop_last):
    pytest.importorskip("torch")
    from torch.utils.data import BatchSampler as TorchBatchSampler
    order = list(range(n))[::-1]
    ours, theirs = BatchSampler(order, size, drop_last), TorchBatchSampler(order, size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sampler_arguments_are_checked():
    with pytest.raises(ValueError, match=re.escape("BatchSampler: batch_size must be an int >= 1, "
                                                   "got 0")):
        BatchSampler([1], 0, False)
    with pytest.raises(ValueError, match="RandomSampler: num_samples must be an int >= 1"):
        RandomSampler([1], num_samples=0)
    with pytest.raises(TypeError, match="RandomSampler: replacement must be a bool"):
        RandomSampler([1], replacement=1)


# ------------------------------------------------------------------ Subset, random_split

def test_random_split_sizes_disjoint_and_reproducible():
    pytest.importorskip("torch")
    from torch.utils.data import random_split as torch_split
    data = list(range(11))
    for lengths in ([3, 8], [0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.9], [11, 0]):
        parts = random_split(data, lengths, generator=0)
        assert [len(p) for p in parts] == [len(p) for p in torch_split(data, lengths)]
        items = [part[i] for part in parts for i in range(len(part))]
        assert sorted(items) == data  # disjoint and complete
    a = [list(p) for p in random_split(data, [5, 6], generator=4)]
    assert a == [list(p) for p in random_split(data, [5, 6], generator=4)]
    assert a != [list(p) for p in random_split(data, [5, 6], generator=5)]
    tg.manual_seed(2)
    b = [p.indices for p in random_split(data, [5, 6])]
    tg.manual_seed(2)
    assert b == [p.indices for p in random_split(data, [5, 6])]


@pytest.mark.parametrize("lengths, message", [
    ([3, 3], "random_split: the lengths [3, 3] sum to 6, but the dataset has 11 samples"),
    ([0.5, 0.6], "lengths must be ints >= 0 or fractions summing to 1, got [0.5, 0.6]"),
    ([-1, 12], "lengths must be ints >= 0 or fractions summing to 1, got [-1, 12]"),
])
def test_random_split_rejects_bad_lengths(lengths, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        random_split(list(range(11)), lengths)


def test_subset_and_split_keep_the_array_fast_path():
    images = np.arange(10 * 4, dtype=np.uint8).reshape(10, 1, 2, 2)
    ds = TensorDataset(images, np.arange(10))
    train, _ = random_split(ds, [0.7, 0.3], generator=0)
    inner = Subset(train, [6, 0, 3])
    assert inner[1][1] == train.indices[0]
    fast = [[t.data for t in batch] for batch in DataLoader(inner, batch_size=2)]
    expected_index = np.asarray(train.indices)[[6, 0, 3]]
    np.testing.assert_array_equal(np.concatenate([y for _, y in fast]), expected_index)
    np.testing.assert_array_equal(np.concatenate([x for x, _ in fast]),
                                  images[expected_index] / np.float32(255))
    # the per-item path (a collate_fn) gives the same samples, unscaled
    slow = list(DataLoader(inner, batch_size=2, collate_fn=default_collate))
    np.testing.assert_array_equal(np.concatenate([x.data for x, _ in slow]),
                                  images[expected_index])


# ------------------------------------------------------------------ DataLoader options

def test_tensor_dataset_of_any_tensors():
    x, y = tg.randn(6, 3), tg.randn(6)
    ds = TensorDataset(x, y, np.arange(6))
    item = ds[2]
    assert isinstance(item[0], tg.Tensor) and isinstance(item[1], tg.Tensor)
    assert isinstance(item[2], np.integer) and item[2] == 2
    xb, yb, zb = next(iter(DataLoader(ds, batch_size=4, shuffle=True, generator=0)))
    assert xb.shape == (4, 3) and yb.dtype == np.float32 and zb.dtype == np.int64
    np.testing.assert_array_equal(xb.data, x.data[zb.data])
    np.testing.assert_array_equal(yb.data, y.data[zb.data])  # float targets kept


def test_loader_arguments_as_pytorch():
    ds = TensorDataset(np.arange(10.0))
    loader = DataLoader(ds, batch_size=3, num_workers=2, pin_memory=True, shuffle=True,
                        generator=7, persistent_workers=True, prefetch_factor=2)
    assert len(loader) == 4 and sorted(np.concatenate([b[0].data for b in loader])) == list(
        np.arange(10.0))
    order = lambda g: [b[0].data.tolist() for b in DataLoader(ds, 3, shuffle=True, generator=g)]
    assert order(7) == order(np.random.default_rng(7)) != order(8)
    assert tg.data.get_worker_info() is None
    for kwargs, message in [
            (dict(sampler=[0], shuffle=True), "sampler and shuffle=True exclude each other"),
            (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler is mutually exclusive"),
            (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler is mutually exclusive"),
            (dict(num_workers=-1), "num_workers must be an int >= 0, got -1"),
            (dict(seed=1, generator=2), "give the shuffling generator as seed= or generator=")]:
        with pytest.raises(ValueError, match=re.escape(f"DataLoader: {message}")):
            DataLoader(ds, **kwargs)
    with pytest.raises(TypeError, match="DataLoader: transform= is a batch transform for "
                                        "datasets held as arrays"):
        DataLoader(Records(), transform=transforms.Normalize(0, 1))


def test_dataset_getitems_is_used_for_batches():
    class Batched(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            return [np.array([i, i * i]) for i in indices]

    batches = [b.data.tolist() for b in DataLoader(Batched(), batch_size=2)]
    assert batches == [[[0, 0], [1, 1]], [[2, 4], [3, 9]], [[4, 16]]]


def test_a_dataset_subclass_with_its_own_getitem_is_fetched_per_item():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    ds = Doubled(np.arange(4.0), np.arange(4))
    (x, y), = DataLoader(ds, batch_size=4)
    np.testing.assert_array_equal(x.data, np.arange(4.0) * 2)


# ------------------------------------------------------------------ per-item transforms

def hwc_image(h=5, w=7, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


def test_to_tensor_as_torchvision():
    torch = pytest.importorskip("torch")
    image = hwc_image()
    out = transforms.ToTensor()(image)
    # torchvision: from_numpy(pic.transpose(2, 0, 1)).contiguous().to(float32).div(255)
    expected = torch.from_numpy(image.transpose(2, 0, 1).copy()).to(torch.float32).div(255)
    assert isinstance(out, tg.Tensor) and out.shape == (3, 5, 7) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, expected.numpy())
    assert out.data.flags.c_contiguous and out.data.min() >= 0 and out.data.max() <= 1
    gray = transforms.ToTensor()(image[:, :, 0])
    np.testing.assert_array_equal(gray.data, expected.numpy()[:1])
    floats = np.random.default_rng(1).random((4, 2, 3))
    kept = transforms.ToTensor()(floats)  # not uint8: values and dtype kept, axes moved
    assert kept.dtype == np.float64
    np.testing.assert_array_equal(kept.data, floats.transpose(2, 0, 1))
    for bad, kind in [(np.zeros((1, 2, 3, 4), np.uint8), "uint8 (1, 2, 3, 4)"),
                      (tg.zeros(3, 4, 4), "Tensor"), ([[1]], "list")]:
        with pytest.raises(TypeError, match=re.escape(
                f"ToTensor: expected an image array (H, W) or (H, W, C), got {kind}")):
            transforms.ToTensor()(bad)


def test_normalize_per_item_as_torchvision():
    torch = pytest.importorskip("torch")
    image = transforms.ToTensor()(hwc_image())
    mean, std = [0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261]
    out = transforms.Normalize(mean, std)(image)
    t = torch.from_numpy(image.data.copy())
    expected = t.sub(torch.tensor(mean)[:, None, None]).div(torch.tensor(std)[:, None, None])
    assert isinstance(out, tg.Tensor) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(TypeError, match=r"Normalize: expected an image: a floating \(C, H, W\)"):
        transforms.Normalize(0.5, 0.5)(hwc_image())  # uint8: ToTensor first, as torchvision


def torch_padded(image_chw, padding, mode):
    """torchvision's padding (left, top, right, bottom) applied with torch ops."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as tF
    left, top, right, bottom = padding
    t = torch.from_numpy(np.ascontiguousarray(image_chw, np.float64))[None]
    torch_mode = {"constant": "constant", "edge": "replicate", "reflect": "reflect"}[mode]
    return tF.pad(t, (left, right, top, bottom), mode=torch_mode)[0].numpy()


@pytest.mark.parametrize("padding, sides", [(2, (2, 2, 2, 2)), ((1, 3), (1, 3, 1, 3)),
                                            ((0, 1, 2, 3), (0, 1, 2, 3)), (None, (0, 0, 0, 0))])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
@pytest.mark.parametrize("layout", ["hwc", "chw"])
def test_random_crop_per_item_is_a_window_of_torchvisions_padding(padding, sides, mode, layout):
    image = hwc_image(seed=3)
    chw = image.transpose(2, 0, 1).astype(np.float64)
    x = image if layout == "hwc" else tg.Tensor(chw)
    crop = transforms.RandomCrop((4, 6), padding=padding, padding_mode=mode, seed=0)
    padded = torch_padded(chw, sides, mode)
    offsets = set()
    for _ in range(30):
        out = crop(x)
        if layout == "hwc":
            assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == (4, 6, 3)
            out = out.transpose(2, 0, 1)
        else:
            assert isinstance(out, tg.Tensor) and out.shape == (3, 4, 6)
            out = out.data
        matches = [(t, l) for t in range(padded.shape[1] - 3) for l in range(padded.shape[2] - 5)
                   if np.array_equal(padded[:, t:t + 4, l:l + 6], out)]
        assert len(matches) >= 1
        offsets.add(matches[0])
    assert len(offsets) > 1


def test_random_crop_symmetric_padding_and_fill():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4, 1) + 1
    full = transforms.RandomCrop((5, 4), padding=(0, 1), padding_mode="symmetric", seed=0)(image)
    np.testing.assert_array_equal(full[..., 0], np.concatenate([image[:1], image, image[-1:]])[..., 0])
    filled = transforms.RandomCrop((5, 6), padding=1, fill=9, seed=0)(image)
    assert filled[0, 0, 0] == 9 and filled[1, 1, 0] == 1 and filled.dtype == np.uint8


def test_random_horizontal_flip_per_item():
    image = hwc_image()
    flip = transforms.RandomHorizontalFlip(seed=0)
    outcomes = [flip(image) for _ in range(200)]
    mirrored = [np.array_equal(o, image[:, ::-1]) for o in outcomes]
    assert all(m or np.array_equal(o, image) for m, o in zip(mirrored, outcomes))
    assert 70 < sum(mirrored) < 130
    t = tg.Tensor(image.transpose(2, 0, 1).astype(np.float32))
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(1.0)(t).data, t.data[..., ::-1])
    assert transforms.RandomHorizontalFlip(0.0)(t) is t


def test_per_item_pipeline_state_resumes_bit_for_bit():
    pipeline = transforms.Compose([transforms.RandomCrop(4, padding=2, seed=1),
                                   transforms.RandomHorizontalFlip(seed=2), transforms.ToTensor(),
                                   transforms.Normalize(0.5, 0.25),
                                   transforms.Lambda(lambda t: t * 2)])
    image = hwc_image()
    pipeline(image)
    state = pipeline.state_dict()
    first = [pipeline(image).data for _ in range(5)]
    pipeline.load_state_dict(state)
    again = [pipeline(image).data for _ in range(5)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(first[0], f) for f in first[1:])
    with pytest.raises(TypeError, match="Lambda: expected a callable, got int"):
        transforms.Lambda(3)


# ------------------------------------------------------------------ datasets with transforms

@pytest.fixture
def torchvision_mnist(tmp_path, monkeypatch):
    """root/MNIST/raw/ with the .gz files (as torchvision downloads them)."""
    arrays, table = write_fake_mnist(tmp_path / "MNIST" / "raw")
    monkeypatch.setattr(MNIST, "md5", table)
    monkeypatch.setattr(dl, "urlopen", lambda *a, **k: pytest.fail("unexpected download"))
    return tmp_path, arrays


def test_mnist_with_transforms_items_as_torchvision(torchvision_mnist):
    root, arrays = torchvision_mnist
    images, labels = arrays["train"]
    plain = MNIST(root, train=True)
    ds = MNIST(root, True, transforms.ToTensor(), lambda y: y + 100)
    assert len(ds) == len(images)
    x, y = ds[2]
    assert isinstance(x, tg.Tensor) and x.shape == (1, 28, 28) and x.dtype == np.float32
    np.testing.assert_array_equal(x.data[0], images[2] / np.float32(255))
    assert y == labels[2] + 100 and type(y) is int
    raw, label = MNIST(root, transform=lambda img: img)[2]  # what a transform receives
    assert raw.shape == (28, 28) and raw.dtype == np.uint8 and type(label) is int
    raw[:] = 0  # a copy: the dataset is untouched
    np.testing.assert_array_equal(ds.images[2, 0], images[2])
    image, label = plain[2]  # without transforms: today's arrays
    assert image.shape == (1, 28, 28) and image.dtype == np.uint8 and label.dtype == np.int64


def test_per_item_to_tensor_gives_the_fast_paths_batches(torchvision_mnist):
    root, _ = torchvision_mnist
    plain, per_item = MNIST(root), MNIST(root, transform=transforms.ToTensor())
    fast = list(DataLoader(plain, batch_size=4, shuffle=True, seed=3))
    slow = list(DataLoader(per_item, batch_size=4, shuffle=True, seed=3))
    assert len(fast) == len(slow) == 2
    for (xf, yf), (xs, ys) in zip(fast, slow):
        assert xs.dtype == xf.dtype == np.float32 and ys.dtype == yf.dtype == np.int64
        np.testing.assert_array_equal(xs.data, xf.data)
        np.testing.assert_array_equal(ys.data, yf.data)


def test_mnist_reads_torchvisions_extracted_files(tmp_path, monkeypatch):
    arrays, table = write_fake_mnist(tmp_path / "MNIST" / "raw")
    extracted = {}
    for name in table:
        path = tmp_path / "MNIST" / "raw" / name
        data = gzip.decompress(path.read_bytes())
        path.with_suffix("").write_bytes(data)
        path.unlink()
        extracted[name[:-3]] = dl.md5sum(path.with_suffix(""))
    monkeypatch.setattr(MNIST, "md5", table)
    monkeypatch.setattr(MNIST, "extracted_md5", extracted)
    ds = MNIST(tmp_path, train=False, download=False)
    np.testing.assert_array_equal(ds.images[:, 0], arrays["t10k"][0])
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").write_bytes(b"changed")
    with pytest.raises(dl.ChecksumError, match="t10k-labels-idx1-ubyte has MD5"):
        MNIST(tmp_path, train=False, download=False)


def test_cifar10_torchvision_layout_and_transforms(tmp_path, monkeypatch):
    batches = cifar_archive(tmp_path / "cifar-10-python.tar.gz")  # where torchvision puts it
    monkeypatch.setattr(CIFAR10, "remote", CIFAR10.remote._replace(
        md5=dl.md5sum(tmp_path / "cifar-10-python.tar.gz")))
    from_archive = CIFAR10(tmp_path, train=False, download=False)
    assert "cifar-10-python.tar.gz" in from_archive.source
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name, batch in batches.items():
        (folder / name).write_bytes(make_batch(*batch))
    monkeypatch.setattr(cifar_module, "PYTHON_BATCH_MD5",
                        {name: dl.md5sum(folder / name) for name in batches})
    ds = CIFAR10(tmp_path, train=True, transform=transforms.ToTensor(),
                 target_transform=str, download=False)
    assert "cifar-10-batches-py" in ds.source and len(ds) == 12
    train_images = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    x, y = ds[3]
    np.testing.assert_array_equal(x.data, train_images[3] / np.float32(255))
    assert y == str(batches["data_batch_2"][1][1])
    test = CIFAR10(tmp_path, train=False, download=False)
    np.testing.assert_array_equal(test.images, from_archive.images)
    (folder / "test_batch").write_bytes(b"changed")
    with pytest.raises(dl.ChecksumError, match="test_batch has MD5"):
        CIFAR10(tmp_path, train=False, download=False)


# ------------------------------------------------------------------ issue 17: data faults

def test_failed_download_creates_no_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(dl, "urlopen", lambda url, timeout=None: (_ for _ in ()).throw(
        urllib.error.URLError("offline")))
    with pytest.raises(FileNotFoundError):
        MNIST(tmp_path / "new" / "root", train=False)
    with pytest.raises(FileNotFoundError):
        CIFAR10(tmp_path / "new", train=False)
    assert os.listdir(tmp_path) == []


def test_download_failing_midway_removes_the_folders_it_made(tmp_path, monkeypatch):
    class Broken:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, size):
            raise OSError("connection reset")

    monkeypatch.setattr(dl, "urlopen", lambda url, timeout=None: Broken())
    (tmp_path / "keep").mkdir()
    with pytest.raises(OSError, match="connection reset"):
        dl.download(dl.Remote("a.bin", "0" * 32, ("http://x/a.bin",)), tmp_path / "keep" / "a" / "b")
    assert os.listdir(tmp_path) == ["keep"] and os.listdir(tmp_path / "keep") == []


def test_cifar_labels_of_the_wrong_shape_name_the_batch():
    data = random_images(2, 0).reshape(2, -1)
    batch = pickle.dumps({b"data": data, b"labels": [[1], [2, 3]]})
    with pytest.raises(CIFARError, match=re.escape(
            "data_batch_3: b'labels' must be 2 integers (one per image), got a list of "
            "unevenly nested values")):
        read_cifar_batch(batch, "data_batch_3")


@pytest.mark.parametrize("pipeline, batched", [
    (transforms.ToTensor(), True),
    (transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.5, 0.25)]), True),
    (transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.1, 0.3),
                         transforms.Lambda(lambda t: t * 2)]), False),
    (transforms.Compose([transforms.RandomHorizontalFlip(seed=0), transforms.ToTensor()]), False)])
def test_batched_fetch_equals_per_item_samples(pipeline, batched):
    """A ToTensor/Normalize pipeline is applied to a whole batch in __getitems__: the same
    samples, values and types as item by item (other pipelines go item by item)."""
    assert (transforms.batch_form(pipeline) is not None) == batched
    images = random_images(9, 4)
    ds = VisionDataset(images, np.arange(9) % 10)
    ds.transform = pipeline
    state = transforms.state_of(pipeline)
    batch = ds.__getitems__([4, 0, 8, 4])
    pipeline.load_state_dict(state) if state is not None else None
    items = [ds[i] for i in [4, 0, 8, 4]]
    if state is not None:
        pipeline.load_state_dict(state)
    through_subset = Subset(ds, [8, 4, 0]).__getitems__([1, 2, 0, 1])  # as PyTorch's Subset
    for (x, y), (xi, yi) in zip(through_subset, items, strict=True):
        np.testing.assert_array_equal(x.data, xi.data)
        assert y == yi
    for (x, y), (xi, yi) in zip(batch, items, strict=True):
        assert isinstance(x, tg.Tensor) and type(y) is type(yi) is int and y == yi
        assert x.dtype == xi.dtype == np.float32
        np.testing.assert_array_equal(x.data, xi.data)


def test_distributed_sampler_shards_through_the_loader_as_torchs_would():
    """Two ranks' loaders (DistributedSampler with explicit ranks) cover the dataset once,
    disjointly; each rank's batches equal torch's DataLoader fed the same sampler."""
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata
    from tensorgrad.utils.data import DistributedSampler
    x = np.random.default_rng(0).standard_normal((10, 3))
    seen = []
    for rank in range(2):
        sampler = DistributedSampler(TensorDataset(x), num_replicas=2, rank=rank, seed=1)
        sampler.set_epoch(3)
        ours = list(DataLoader(TensorDataset(x, np.arange(10)), batch_size=2, sampler=sampler))
        theirs = list(tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x),
                                                           torch.arange(10)),
                                       batch_size=2, sampler=sampler))
        for a, b in zip(ours, theirs, strict=True):
            assert_same(a, b)
        items = list(DataLoader(Records(10), batch_size=2, sampler=sampler))
        assert [b["pair"][0].data.tolist() for b in items] == [b[1].data.tolist() for b in ours]
        seen += [i for _, y in ours for i in y.data.tolist()]
    assert sorted(seen) == list(range(10))
