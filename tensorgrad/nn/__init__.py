"""Layers and models: `Module`, `Parameter`, PyTorch-shaped layers, `init`, `models`, and
`utils.clip_grad_norm_`, `parallel.DistributedDataParallel`."""
from . import init, models, utils
from .activation import (ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax,
                         Tanh)
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .embedding import Embedding
from .linear import Flatten, Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, NLLLoss, SmoothL1Loss)
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, SyncBatchNorm
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .summary import summary
from .upsampling import Upsample
from . import parallel  # noqa: E402  (DistributedDataParallel builds on Module)

__all__ = [
    "Module", "Parameter", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d", "SyncBatchNorm", "Dropout", "ReLU", "LeakyReLU", "Sigmoid",
    "Tanh", "Flatten", "Identity", "Sequential", "ModuleList", "CrossEntropyLoss", "NLLLoss",
    "MSELoss", "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
    "KLDivLoss", "GELU", "SiLU", "ELU", "Softmax", "LogSoftmax", "LayerNorm", "GroupNorm",
    "ConvTranspose2d", "Embedding", "Dropout2d", "Upsample", "ModuleDict", "init", "models", "utils", "summary",
    "parallel",
]
