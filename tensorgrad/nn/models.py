"""Ready-made models for 28x28 (MNIST, Fashion-MNIST) and 32x32 (CIFAR-10) images.

Each returns a module whose state_dict names match the PyTorch module written the same way,
so PyTorch weights load with `load_state_dict`. Parameter counts (10 classes):

| model | for | parameters |
|---|---|---|
| `lenet5` | LeNet-5 (LeCun et al. 1998, ReLU + max-pool), 28x28 | 61,706 |
| `mnist_cnn` | 3 conv-BatchNorm blocks, 28x28 | 131,050 |
| `cifar_cnn` | 3 conv-BatchNorm blocks, 32x32 | 620,586 |
| `mlp` | 784-256-128-10 perceptron | 235,146 |
| `resnet20` / `resnet32` / `resnet56` | He et al. 2016, CIFAR variant, 32x32 | 269,722 / 464,154 / 853,018 |
| `resnet18` | the ImageNet layout adapted to 32x32 | 11,173,962 |
"""
from __future__ import annotations

from .. import functional as F
from .activation import ReLU
from .container import Sequential
from .conv import Conv2d
from .dropout import Dropout
from .linear import Flatten, Linear
from .module import Module
from .normalization import BatchNorm2d
from .pooling import MaxPool2d

__all__ = ["lenet5", "mnist_cnn", "cifar_cnn", "mlp", "resnet20", "resnet32", "resnet56",
           "resnet18", "BasicBlock", "ResNet"]


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


class BasicBlock(Module):
    """Two 3x3 conv-BatchNorm layers with a ReLU between them, added to the shortcut, then a
    ReLU (He et al. 2016). When the block changes size (stride 2 or more channels) the
    shortcut is "A", parameter-free: every second pixel, channels zero-padded on both sides
    (the paper's CIFAR choice), or "B": a 1x1 conv-BatchNorm projection named ``shortcut.0``
    and ``shortcut.1`` (the ImageNet choice)."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1, shortcut: str = "A"):
        super().__init__()
        if shortcut not in ("A", "B"):
            raise ValueError(f"BasicBlock: shortcut must be 'A' or 'B', got {shortcut!r}")
        self.conv1 = Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(channels)
        self.conv2 = Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2d(channels)
        self.stride, self.kind = stride, shortcut
        self.changes_size = stride != 1 or in_channels != channels
        self.extra_channels = channels - in_channels
        if self.changes_size and shortcut == "B":
            self.shortcut = Sequential(Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                                       BatchNorm2d(channels))

    def _shortcut(self, x):
        if not self.changes_size:
            return x
        if self.kind == "B":
            return self.shortcut(x)
        x = x[:, :, ::self.stride, ::self.stride]
        half = self.extra_channels // 2
        return x.pad(((0, 0), (half, self.extra_channels - half), (0, 0), (0, 0)))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self._shortcut(x))

    def extra_repr(self) -> str:
        return f"stride={self.stride}, shortcut={self.kind!r}" if self.changes_size else ""


class ResNet(Module):
    """A residual network of BasicBlocks: a 3x3 conv-BatchNorm-ReLU stem (``conv1``, ``bn1``),
    stages ``layer1``, ``layer2``, ... of `blocks[i]` blocks with `widths[i]` channels (each
    stage after the first halves the size), global average pooling and ``linear``."""

    def __init__(self, blocks, widths, num_classes: int = 10, in_channels: int = 3,
                 shortcut: str = "A"):
        super().__init__()
        self.conv1 = Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = BatchNorm2d(widths[0])
        previous = widths[0]
        for i, (count, width) in enumerate(zip(blocks, widths)):
            stride = 1 if i == 0 else 2
            stage = [BasicBlock(previous if j == 0 else width, width, stride if j == 0 else 1,
                                shortcut) for j in range(count)]
            self.add_module(f"layer{i + 1}", Sequential(*stage))
            previous = width
        self.num_stages = len(blocks)
        self.linear = Linear(previous, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.linear(x.mean(axis=(2, 3)))


def _cifar_resnet(depth: int, num_classes: int, in_channels: int) -> ResNet:
    """The CIFAR ResNets of depth 6n + 2: 3 stages of n blocks, 16/32/64 channels."""
    return ResNet([(depth - 2) // 6] * 3, [16, 32, 64], num_classes, in_channels, shortcut="A")


def resnet20(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-20 for 32x32 images (He et al. 2016, section 4.2; 0.27M parameters)."""
    return _cifar_resnet(20, num_classes, in_channels)


def resnet32(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-32 for 32x32 images (He et al. 2016, section 4.2; 0.47M parameters)."""
    return _cifar_resnet(32, num_classes, in_channels)


def resnet56(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-56 for 32x32 images (He et al. 2016, section 4.2; 0.86M parameters)."""
    return _cifar_resnet(56, num_classes, in_channels)


def resnet18(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-18 as many public CIFAR repositories use it: the ImageNet layout (4 stages of 2
    blocks, 64-512 channels, projection shortcuts) with a 3x3 stem and no initial max-pool,
    for 32x32 images (11.2M parameters)."""
    return ResNet([2, 2, 2, 2], [64, 128, 256, 512], num_classes, in_channels, shortcut="B")
