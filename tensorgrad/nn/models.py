"""Ready-made models for 28x28 (MNIST, Fashion-MNIST) and 32x32 (CIFAR-10) images.

Each returns an `nn.Sequential` whose state_dict names match the PyTorch module written the
same way, so PyTorch weights (converted to NumPy arrays) load with `load_state_dict`.
"""
from __future__ import annotations

from .activation import ReLU
from .container import Sequential
from .conv import Conv2d
from .dropout import Dropout
from .linear import Flatten, Linear
from .normalization import BatchNorm2d
from .pooling import MaxPool2d

__all__ = ["lenet5", "mnist_cnn", "cifar_cnn", "mlp"]


def lenet5(num_classes: int = 10, in_channels: int = 1) -> Sequential:
    """LeNet-5 for (N, in_channels, 28, 28) inputs, with ReLU and max-pooling.

    Layers (state_dict names): conv1 (in_channels->6, 5x5, padding 2), relu1, pool1 (2x2),
    conv2 (6->16, 5x5), relu2, pool2, flatten, fc1 (400->120), relu3, fc2 (120->84), relu4,
    fc3 (84->num_classes). Only conv1, conv2, fc1, fc2, fc3 hold parameters
    (``conv1.weight``, ``conv1.bias``, ...), so a PyTorch module with attributes of those
    names, or ``nn.Sequential(OrderedDict(...))`` with the same names, loads.
    """
    return Sequential(dict(
        conv1=Conv2d(in_channels, 6, 5, padding=2), relu1=ReLU(), pool1=MaxPool2d(2),
        conv2=Conv2d(6, 16, 5), relu2=ReLU(), pool2=MaxPool2d(2),
        flatten=Flatten(),
        fc1=Linear(16 * 5 * 5, 120), relu3=ReLU(),
        fc2=Linear(120, 84), relu4=ReLU(),
        fc3=Linear(84, num_classes),
    ))


def _conv_bn_relu_pool(in_channels: int, out_channels: int) -> list:
    """3x3 conv (same size; no bias, BatchNorm's shift replaces it), BatchNorm, ReLU,
    2x2 max-pool."""
    return [Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            BatchNorm2d(out_channels), ReLU(), MaxPool2d(2)]


def mnist_cnn(num_classes: int = 10, in_channels: int = 1) -> Sequential:
    """A small BatchNorm CNN for (N, in_channels, 28, 28) inputs (~11 MFLOP per image forward):
    three conv3x3-BatchNorm-ReLU-maxpool blocks (32, 64, 64 channels; 28 -> 14 -> 7 -> 3),
    then Linear(576, 128)-ReLU-Dropout(0.25)-Linear(128, num_classes).

    Names: ``features.{0,4,8}`` are the convolutions, ``features.{1,5,9}`` the BatchNorms,
    ``classifier.1`` and ``classifier.4`` the linear layers.
    """
    return Sequential(dict(
        features=Sequential(*_conv_bn_relu_pool(in_channels, 32), *_conv_bn_relu_pool(32, 64),
                            *_conv_bn_relu_pool(64, 64)),
        classifier=Sequential(Flatten(), Linear(64 * 3 * 3, 128), ReLU(), Dropout(0.25),
                              Linear(128, num_classes)),
    ))


def cifar_cnn(num_classes: int = 10, in_channels: int = 3) -> Sequential:
    """A BatchNorm CNN for (N, in_channels, 32, 32) inputs (~20 MFLOP per image forward):
    three conv3x3-BatchNorm-ReLU-maxpool blocks (32, 64, 128 channels; 32 -> 16 -> 8 -> 4),
    then Linear(2048, 256)-ReLU-Dropout(0.5)-Linear(256, num_classes).

    Names as in `mnist_cnn`: ``features.{0,4,8}`` convolutions, ``features.{1,5,9}``
    BatchNorms, ``classifier.1`` and ``classifier.4`` linear layers.
    """
    return Sequential(dict(
        features=Sequential(*_conv_bn_relu_pool(in_channels, 32), *_conv_bn_relu_pool(32, 64),
                            *_conv_bn_relu_pool(64, 128)),
        classifier=Sequential(Flatten(), Linear(128 * 4 * 4, 256), ReLU(), Dropout(0.5),
                              Linear(256, num_classes)),
    ))


def mlp(num_classes: int = 10, in_features: int = 784, hidden=(256, 128)) -> Sequential:
    """Flatten, then Linear-ReLU for each hidden size, then Linear(hidden[-1], num_classes).
    Layer names are their positions: ``1.weight``, ``3.weight``, ..."""
    layers, width = [Flatten()], in_features
    for size in hidden:
        layers += [Linear(width, size), ReLU()]
        width = size
    return Sequential(*layers, Linear(width, num_classes))
