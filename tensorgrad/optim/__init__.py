"""Optimizers (SGD, Adam, AdamW, RMSprop) and learning-rate schedulers, PyTorch-shaped."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .lr_scheduler import CosineAnnealingLR, LRScheduler, OneCycleLR, StepLR
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler", "LRScheduler",
           "StepLR", "CosineAnnealingLR", "OneCycleLR"]
