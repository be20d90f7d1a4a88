"""`tensorgrad.train` is `tensorgrad.app.train`, the training loop: the same module object
under its historical name, so ``from tensorgrad.train import build_trainer`` keeps working."""
import sys

from .app import train as _train

sys.modules[__name__] = _train
