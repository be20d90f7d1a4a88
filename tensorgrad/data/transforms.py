"""Batch transforms: each takes a floating ndarray batch (N, C, H, W) and returns a new one,
vectorized over the batch (no Python loop over samples).

Random transforms own a `np.random.Generator` built by `tensorgrad.random.new_generator(seed)` and expose
its state through `state_dict()` / `load_state_dict()`, so a run resumes bit-for-bit.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..random import new_generator


def state_of(transform):
    """A transform's state (None for a callable without `state_dict`)."""
    return transform.state_dict() if hasattr(transform, "state_dict") else None


def _check_batch(x, who: str) -> None:
    if not isinstance(x, np.ndarray) or x.ndim != 4 or x.dtype.kind != "f":
        kind = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"{who}: expected a floating ndarray batch (N, C, H, W), got {kind}")


def _pair(value, who: str, name: str, low: int) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= low for v in pair):
        raise ValueError(f"{who}: {name} must be an int >= {low} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


class Compose:
    """Apply transforms one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for transform in self.transforms:
            x = transform(x)
        return x

    def state_dict(self) -> dict:
        return {"transforms": [state_of(t) for t in self.transforms]}

    def load_state_dict(self, state: dict) -> None:
        for transform, sub in zip(self.transforms, state["transforms"], strict=True):
            if sub is not None:
                transform.load_state_dict(sub)


class Normalize:
    """(x - mean[c]) / std[c] for each channel c; scalars apply to every channel."""

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(f"Normalize: mean and std must be scalars or sequences of one "
                             f"length, got shapes {self.mean.shape} and {self.std.shape}")
        if not np.all(self.std > 0):
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        _check_batch(x, "Normalize")
        if len(self.mean) not in (1, x.shape[1]):
            raise ValueError(f"Normalize: {len(self.mean)} means and stds for an input with "
                             f"{x.shape[1]} channels (input {x.shape})")
        mean, std = (v.astype(x.dtype)[:, None, None] for v in (self.mean, self.std))
        return (x - mean) / std


class _RandomTransform:
    def __init__(self, seed):
        self.generator = new_generator(seed)

    def state_dict(self) -> dict:
        return {"rng": self.generator.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.generator.bit_generator.state = state["rng"]


class RandomCrop(_RandomTransform):
    """Zero-pad each image by `padding` on every side, then cut a `size` window at an
    independent uniformly random offset per sample. size and padding: an int or (h, w)."""

    def __init__(self, size, padding=0, seed=None):
        self.size = _pair(size, "RandomCrop", "size", 1)
        self.padding = _pair(padding, "RandomCrop", "padding", 0)
        super().__init__(seed)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        _check_batch(x, "RandomCrop")
        (ph, pw), (ch, cw) = self.padding, self.size
        n, height, width = x.shape[0], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw
        if ch > height or cw > width:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the padded "
                             f"image ({height}, {width}) (input {x.shape}, padding {self.padding})")
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        top = self.generator.integers(0, height - ch + 1, size=n)
        left = self.generator.integers(0, width - cw + 1, size=n)
        windows = sliding_window_view(x, (ch, cw), axis=(2, 3))  # (N, C, H', W', ch, cw)
        return windows[np.arange(n), :, top, left]


class RandomHorizontalFlip(_RandomTransform):
    """Mirror each image left-right with probability p, independently per sample."""

    def __init__(self, p: float = 0.5, seed=None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p
        super().__init__(seed)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        _check_batch(x, "RandomHorizontalFlip")
        flip = self.generator.random(x.shape[0]) < self.p
        return np.where(flip[:, None, None, None], x[..., ::-1], x)
