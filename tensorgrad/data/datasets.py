"""Map-style datasets as PyTorch's `torch.utils.data`: `Dataset`, `TensorDataset`, `Subset`,
`random_split`; and MNIST, FashionMNIST and CIFAR10 held in memory, read from their published
files (downloaded when missing), as torchvision's.

Files are looked for in <root>/mnist/, <root>/fashion-mnist/ and <root>/cifar-10/ under
their original names, and in torchvision's layout (<root>/MNIST/raw/,
<root>/FashionMNIST/raw/, <root>/cifar-10-batches-py), where root is the `root` argument,
else $TENSORGRAD_DATA, else ~/.cache/tensorgrad.
"""
from __future__ import annotations

import math

import numpy as np

from ..random import new_generator
from ..tensor import Tensor
from .cifar import (has_binary_batches, has_python_batches, read_cifar_bin_folder,
                    read_cifar_bin_tar, read_cifar_py_folder, read_cifar_tar)
from .download import Remote, data_root, fetch
from .idx import read_idx
from .transforms import batch_form


def check_arrays(images, labels, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of images (uint8 or floating, one row per sample) and integer labels
    (N,); return them as ndarrays with int64 labels."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim == 0 or not (images.dtype == np.uint8 or images.dtype.kind == "f"):
        raise TypeError(f"{who}: images must be a uint8 or floating array with one row per "
                        f"sample, got {images.dtype} with shape {images.shape}")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise TypeError(f"{who}: labels must be a 1-D integer array, got {labels.dtype} "
                        f"with shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{who}: {len(images)} images but {len(labels)} labels "
                         f"(images {images.shape}, labels {labels.shape})")
    return images, labels.astype(np.int64, copy=False)


class Dataset:
    """Base class of map-style datasets: subclasses define `__getitem__(index)` (one sample)
    and `__len__`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples held in memory: `tensors`, arrays (or Tensors) with one row per sample; `ds[i]`
    is `(t[i] for t in tensors)` as a tuple, each a Tensor where that input was a Tensor.

    Integer arrays after the first (the targets) are kept as int64, as PyTorch's class ids;
    floating targets keep their dtype. With two tensors they are also `images` and `labels`
    (as MNIST's); `classes` names the label ids when known.
    """

    classes: list[str] = []

    def __init__(self, *tensors, classes=None):
        who = type(self).__name__
        if not tensors:
            raise TypeError(f"{who}: give at least one array or Tensor")
        self._as_tensor = tuple(isinstance(t, Tensor) for t in tensors)
        arrays = [_sample_array(t, who, i) for i, t in enumerate(tensors)]
        if len({len(a) for a in arrays}) > 1:
            raise ValueError(f"{who}: every array needs one row per sample (the same first "
                             f"dimension), got shapes {', '.join(str(a.shape) for a in arrays)}")
        self.tensors = tuple(a if i == 0 or a.dtype.kind not in "iu"
                             else a.astype(np.int64, copy=False) for i, a in enumerate(arrays))
        if classes is not None:
            self.classes = list(classes)

    @property
    def images(self) -> np.ndarray:
        """The first of two arrays (the inputs)."""
        return self._pair()[0]

    @property
    def labels(self) -> np.ndarray:
        """The second of two arrays (the targets)."""
        return self._pair()[1]

    def _pair(self):
        if len(self.tensors) != 2:
            raise AttributeError(f"{type(self).__name__}: images and labels exist for a dataset "
                                 f"of two arrays, this one has {len(self.tensors)}")
        return self.tensors

    def held_as_arrays(self) -> bool:
        """Whether `ds[i]` is exactly the rows `i` of `tensors` (so a DataLoader may gather
        a batch with one fancy index per array)."""
        return type(self).__getitem__ is TensorDataset.__getitem__

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(Tensor(a[index]) if wrap else a[index]
                     for a, wrap in zip(self.tensors, self._as_tensor))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} images of shape {self.tensors[0].shape[1:]})"


def _sample_array(value, who: str, position: int) -> np.ndarray:
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.ndim == 0 or array.dtype.kind not in "biufc":
        raise TypeError(f"{who}: array {position} must be numeric with one row per sample, got "
                        f"{array.dtype} with shape {array.shape}")
    return array


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order: `subset[i]` is
    `dataset[indices[i]]`."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        """The samples at `indices`, fetched at once when the dataset can (as PyTorch's)."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Split `dataset` into disjoint random `Subset`s of the given lengths, or of the given
    fractions of its length (summing to 1; the samples left over by rounding down go one
    each to the first subsets, as in PyTorch). generator: an int seed, a np.random.Generator,
    or None for one seeded from tensorgrad's global generator."""
    n, lengths = len(dataset), list(lengths)
    if lengths and all(isinstance(v, float) for v in lengths) \
            and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if not all(0 <= v <= 1 for v in lengths):
            raise ValueError(f"random_split: fractions must be in [0, 1], got {lengths}")
        counts = [math.floor(n * v) for v in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
               for v in lengths):
        raise ValueError(f"random_split: lengths must be ints >= 0 or fractions summing to 1, "
                         f"got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the "
                         f"dataset has {n} samples")
    order = new_generator(generator).permutation(n).tolist()
    ends = np.cumsum(lengths).tolist()
    return [Subset(dataset, order[end - length:end]) for length, end in zip(lengths, ends)]


class VisionDataset(TensorDataset):
    """Images (N, C, H, W) uint8 and int64 labels held in memory, with torchvision's per-item
    `transform` and `target_transform`.

    Without them `ds[i]` is `(images[i], labels[i])` and a DataLoader batches the arrays
    directly. With either, `ds[i]` is what torchvision gives: the image as the array of a
    PIL image (H, W) for one channel, (H, W, C) else, uint8, passed through `transform`
    (e.g. `transforms.ToTensor()`), and the label as an int, through `target_transform`.
    """

    transform = target_transform = None

    def held_as_arrays(self) -> bool:
        return (self.transform is None and self.target_transform is None
                and type(self).__getitem__ is VisionDataset.__getitem__)

    def __getitem__(self, index):
        images, labels = self.tensors
        if self.transform is None and self.target_transform is None:
            return images[index], labels[index]
        image, label = images[index], int(labels[index])
        if self.transform is not None:  # a copy, so no transform can change the dataset
            image = self.transform(image[0].copy() if len(image) == 1
                                   else image.transpose(1, 2, 0).copy())
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __getitems__(self, indices: list) -> list:
        """`[self[i] for i in indices]` (what a DataLoader fetches for a batch); a transform
        of ToTensor and Normalize steps is applied to the whole batch at once, with the same
        values."""
        apply = None if self.target_transform is not None else batch_form(self.transform)
        if apply is None or type(self).__getitem__ is not VisionDataset.__getitem__:
            return [self[i] for i in indices]
        images, labels = self.tensors
        batch = apply(images[indices])
        return [(Tensor(image), label) for image, label in zip(batch, labels[indices].tolist())]


class MNIST(VisionDataset):
    """MNIST handwritten digits: 60,000 training or 10,000 test images, uint8 (N, 1, 28, 28),
    labels 0-9. Missing files are downloaded unless download=False; every file is checked
    against its official MD5. Files are found in <root>/mnist/ or in torchvision's
    <root>/MNIST/raw/. `transform` and `target_transform` work per item as torchvision's
    (see `VisionDataset`)."""

    folder = "mnist"
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/")
    md5 = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
           "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
           "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
           "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
    extracted_md5 = {"train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
                     "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
                     "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
                     "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637"}
    torchvision_folder = "MNIST"
    classes = [str(digit) for digit in range(10)]

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = True):
        prefix = "train" if train else "t10k"
        names = (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
        folder, remotes = self._files(data_root(root), names)
        image_path, label_path = fetch(type(self).__name__, folder, remotes, download)
        images, labels = read_idx(image_path), read_idx(label_path)
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"{image_path}: expected uint8 images of shape (N, 28, 28), got "
                             f"{images.dtype} {images.shape}")
        if labels.dtype != np.uint8 or labels.shape != images.shape[:1]:
            raise ValueError(f"{label_path}: expected {len(images)} uint8 labels (one per image "
                             f"in {image_path.name}), got {labels.dtype} {labels.shape}")
        if labels.size and labels.max() >= len(self.classes):
            raise ValueError(f"{label_path}: labels must be in 0..{len(self.classes) - 1}, "
                             f"found {labels.max()}")
        super().__init__(images[:, None], labels)
        self.train, self.transform, self.target_transform = train, transform, target_transform

    def _files(self, root, names) -> tuple:
        """The folder and files to read: <root>/<folder>/ (downloaded there when missing),
        or torchvision's <root>/<Name>/raw/ with the .gz files or the files extracted from
        them (checked against the MD5s of the uncompressed files)."""
        ours = [Remote(n, self.md5[n], tuple(m + n for m in self.mirrors)) for n in names]
        raw = root / self.torchvision_folder / "raw"
        extracted = [Remote(r.filename[:-3], self.extracted_md5[r.filename[:-3]], r.urls)
                     for r in ours]
        for folder, remotes in ((root / self.folder, ours), (raw, ours), (raw, extracted)):
            if all((folder / r.filename).is_file() for r in remotes):
                return folder, remotes
        return root / self.folder, ours


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando Research): clothing in MNIST's format, uint8 (N, 1, 28, 28),
    60,000 training or 10,000 test images, 10 classes."""

    folder = "fashion-mnist"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    md5 = {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
           "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
           "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
           "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}
    extracted_md5 = {"train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                     "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
                     "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
                     "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"}
    torchvision_folder = "FashionMNIST"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 training or 10,000 test colour images, uint8 (N, 3, 32, 32), 10
    classes.

    `root` may be a folder holding the binary version's .bin batches itself (with an MD5SUMS
    file beside them; such a folder may hold only a test batch, for train=False): the
    dataset then says it is a local copy (`source`, repr). Otherwise the published archives
    are looked for in <root>/cifar-10/: cifar-10-binary.tar.gz if present, else
    cifar-10-python.tar.gz; then in torchvision's layout (<root>/cifar-10-batches-py/, then
    <root>/cifar-10-python.tar.gz); else the python archive is downloaded into
    <root>/cifar-10/. Every file is checked against its official MD5. `transform` and
    `target_transform` work per item as torchvision's (see `VisionDataset`).
    """

    folder = "cifar-10"
    remote = Remote("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a",
                    ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",))
    binary_remote = Remote("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530",
                           ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",))
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = True):
        if root is not None and has_binary_batches(root):
            arrays = read_cifar_bin_folder(root, train)
            self.source = f"local copy in {root} (files checked against its MD5SUMS)"
        else:
            arrays, self.source = self._read_archive(data_root(root), train, download)
        super().__init__(*arrays)
        self.train, self.transform, self.target_transform = train, transform, target_transform

    def _read_archive(self, root, train: bool, download: bool) -> tuple:
        """(arrays, source) from <root>/cifar-10/ (binary archive, else python archive), else
        torchvision's layout (<root>/cifar-10-batches-py/, <root>/cifar-10-python.tar.gz),
        else the python archive downloaded into <root>/cifar-10/."""
        folder, name = root / self.folder, type(self).__name__
        if (folder / self.binary_remote.filename).is_file():
            (path,) = fetch(name, folder, [self.binary_remote], False)
            return read_cifar_bin_tar(path, train), f"{path} (official archive)"
        if not (folder / self.remote.filename).is_file():
            extracted = root / "cifar-10-batches-py"
            if has_python_batches(extracted, train):
                return (read_cifar_py_folder(extracted, train),
                        f"{extracted} (extracted official batches)")
            if (root / self.remote.filename).is_file():
                folder = root
        (path,) = fetch(name, folder, [self.remote], download)
        return read_cifar_tar(path, train), f"{path} (official archive)"

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return (f"CIFAR10({split}: {len(self)} images of shape {self.images.shape[1:]}; "
                f"{self.source})")
