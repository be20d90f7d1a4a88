"""Image classification datasets held in memory: `TensorDataset` for arrays at hand, and
MNIST, FashionMNIST and CIFAR10 read from their published files (downloaded when missing).

Files live in <root>/mnist/, <root>/fashion-mnist/ and <root>/cifar-10/ under their
original names, where root is the `root` argument, else $TENSORGRAD_DATA, else
~/.cache/tensorgrad.
"""
from __future__ import annotations

import numpy as np

from .cifar import has_binary_batches, read_cifar_bin_folder, read_cifar_bin_tar, read_cifar_tar
from .download import Remote, data_root, fetch
from .idx import read_idx


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


class TensorDataset:
    """Samples held in memory: `images` (N, ...) uint8 or floating, `labels` int64 (N,).

    `len(ds)` is N and `ds[i]` is the pair `(images[i], labels[i])`; `classes` names the
    label ids when known.
    """

    classes: list[str] = []

    def __init__(self, images, labels, classes=None):
        self.images, self.labels = check_arrays(images, labels, type(self).__name__)
        if classes is not None:
            self.classes = list(classes)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} images of shape {self.images.shape[1:]})"


class MNIST(TensorDataset):
    """MNIST handwritten digits: 60,000 training or 10,000 test images, uint8 (N, 1, 28, 28),
    labels 0-9. Missing files are downloaded unless download=False; every file is checked
    against its official MD5."""

    folder = "mnist"
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/")
    md5 = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
           "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
           "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
           "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
    classes = [str(digit) for digit in range(10)]

    def __init__(self, root=None, train: bool = True, download: bool = True):
        prefix = "train" if train else "t10k"
        names = (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
        remotes = [Remote(n, self.md5[n], tuple(m + n for m in self.mirrors)) for n in names]
        image_path, label_path = fetch(type(self).__name__, data_root(root) / self.folder,
                                       remotes, download)
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
        self.train = train


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando Research): clothing in MNIST's format, uint8 (N, 1, 28, 28),
    60,000 training or 10,000 test images, 10 classes."""

    folder = "fashion-mnist"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    md5 = {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
           "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
           "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
           "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class CIFAR10(TensorDataset):
    """CIFAR-10: 50,000 training or 10,000 test colour images, uint8 (N, 3, 32, 32), 10
    classes.

    `root` may be a folder holding the binary version's .bin batches itself (with an MD5SUMS
    file beside them; such a folder may hold only a test batch, for train=False): the
    dataset then says it is a local copy (`source`, repr). Otherwise the published archives
    are looked for in <root>/cifar-10/: cifar-10-binary.tar.gz if present, else
    cifar-10-python.tar.gz (downloaded when missing), each checked against its official MD5.
    """

    folder = "cifar-10"
    remote = Remote("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a",
                    ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",))
    binary_remote = Remote("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530",
                           ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",))
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root=None, train: bool = True, download: bool = True):
        if root is not None and has_binary_batches(root):
            arrays = read_cifar_bin_folder(root, train)
            self.source = f"local copy in {root} (files checked against its MD5SUMS)"
        else:
            folder = data_root(root) / self.folder
            if (folder / self.binary_remote.filename).is_file():
                (path,) = fetch(type(self).__name__, folder, [self.binary_remote], False)
                arrays = read_cifar_bin_tar(path, train)
            else:
                (path,) = fetch(type(self).__name__, folder, [self.remote], download)
                arrays = read_cifar_tar(path, train)
            self.source = f"{path} (official archive)"
        super().__init__(*arrays)
        self.train = train

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return (f"CIFAR10({split}: {len(self)} images of shape {self.images.shape[1:]}; "
                f"{self.source})")
