"""Layers and models: `Module`, `Parameter`, PyTorch-shaped layers, `init`, `models`, and
`utils.clip_grad_norm_`, `parallel.DistributedDataParallel`."""
from . import init, models, utils
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .container import ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .linear import Flatten, Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, NLLLoss, SmoothL1Loss)
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, SyncBatchNorm
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .summary import summary
from . import parallel  # noqa: E402  (DistributedDataParallel builds on Module)

__all__ = [
    "Module", "Parameter", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d", "SyncBatchNorm", "Dropout", "ReLU", "LeakyReLU", "Sigmoid",
    "Tanh", "Flatten", "Identity", "Sequential", "ModuleList", "CrossEntropyLoss", "NLLLoss",
    "MSELoss", "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
    "KLDivLoss", "init", "models", "utils", "summary", "parallel",
]
