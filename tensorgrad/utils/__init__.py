"""PyTorch's `torch.utils` spellings: `tensorgrad.utils.data` is `tensorgrad.data`'s API."""
from . import data

__all__ = ["data"]
