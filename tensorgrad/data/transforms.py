"""Image transforms, as torchvision's, usable per item (in a dataset's `transform=`) or on a
whole batch (a DataLoader's `transform=`, vectorized: no Python loop over samples).

Inputs: an image before `ToTensor` is a uint8 ndarray (H, W) or (H, W, C), as the array of a
PIL image; after it, a floating Tensor or ndarray (C, H, W); a batch is a floating ndarray or
Tensor (N, C, H, W), whose random transforms draw independently for each sample. Each
transform returns the kind it was given (a Tensor for a Tensor).

Random transforms own a `np.random.Generator` built by `tensorgrad.random.new_generator(seed)` and expose
its state through `state_dict()` / `load_state_dict()`, so a run resumes bit-for-bit.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._args import pair
from ..random import new_generator
from ..tensor import Tensor, get_default_dtype


def state_of(transform):
    """A transform's state (None for a callable without `state_dict`)."""
    return transform.state_dict() if hasattr(transform, "state_dict") else None


def _unwrap(x, who: str, pil_like: bool = True):
    """(array, whether x was a Tensor, layout): layout "hwc" for a uint8 image before
    ToTensor (H, W) or (H, W, C), "chw" for one floating image, "nchw" for a batch."""
    is_tensor = isinstance(x, Tensor)
    array = x.data if is_tensor else x
    if isinstance(array, np.ndarray):
        if pil_like and not is_tensor and array.dtype == np.uint8 and array.ndim in (2, 3):
            return array, False, "hwc"
        if array.dtype.kind == "f" and array.ndim in (3, 4):
            return array, is_tensor, "chw" if array.ndim == 3 else "nchw"
    kind = f"{array.dtype} {array.shape}" if isinstance(array, np.ndarray) else type(x).__name__
    what = "a uint8 (H, W) or (H, W, C) array before ToTensor, " if pil_like else ""
    raise TypeError(f"{who}: expected an image: {what}a floating (C, H, W) Tensor or array, or "
                    f"a floating batch (N, C, H, W); got {kind}")


def _wrap(array: np.ndarray, is_tensor: bool):
    return Tensor(array) if is_tensor else array


class Compose:
    """Apply transforms one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def state_dict(self) -> dict:
        return {"transforms": [state_of(t) for t in self.transforms]}

    def load_state_dict(self, state: dict) -> None:
        for transform, sub in zip(self.transforms, state["transforms"], strict=True):
            if sub is not None:
                transform.load_state_dict(sub)


class Lambda:
    """Apply a function of one's own."""

    def __init__(self, function):
        if not callable(function):
            raise TypeError(f"Lambda: expected a callable, got {type(function).__name__}")
        self.function = function

    def __call__(self, x):
        return self.function(x)


class ToTensor:
    """An image array (H, W) or (H, W, C) to a Tensor (C, H, W), as torchvision's: uint8
    values scaled to [0, 1] in the default float dtype (float32), other dtypes kept as they
    are."""

    def __call__(self, picture):
        if isinstance(picture, Tensor) or not isinstance(picture, np.ndarray) \
                or picture.ndim not in (2, 3):
            kind = (f"{picture.dtype} {picture.shape}" if isinstance(picture, np.ndarray)
                    else type(picture).__name__)
            raise TypeError(f"ToTensor: expected an image array (H, W) or (H, W, C), got {kind}")
        chw = picture[None] if picture.ndim == 2 else np.ascontiguousarray(
            picture.transpose(2, 0, 1))
        if picture.dtype == np.uint8:
            return Tensor(np.divide(chw, 255, dtype=get_default_dtype()))
        return Tensor(chw)


def batch_form(transform):
    """A function applying `transform` to a whole uint8 batch (N, C, H, W) with exactly the
    values of stacking its per-item results, when transform is ToTensor, optionally followed
    by Normalize (in a Compose); else None. Datasets use it to transform a batch at once."""
    steps = transform.transforms if isinstance(transform, Compose) else [transform]
    if not steps or type(steps[0]) is not ToTensor or \
            not all(type(step) is Normalize for step in steps[1:]):
        return None

    def apply(images: np.ndarray) -> np.ndarray:
        x = np.divide(images, 255, dtype=get_default_dtype())
        for step in steps[1:]:
            x = step(x)
        return x
    return apply


class Normalize:
    """(x - mean[c]) / std[c] for each channel c of a floating image (C, H, W) or batch
    (N, C, H, W); scalars apply to every channel. The result is always a new array
    (`inplace` is accepted for torchvision's signature)."""

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(f"Normalize: mean and std must be scalars or sequences of one "
                             f"length, got shapes {self.mean.shape} and {self.std.shape}")
        if not np.all(self.std > 0):
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")
        self._cast = {}  # dtype -> (mean, std) as (C, 1, 1) arrays of that dtype

    def __call__(self, x):
        x, is_tensor, _ = _unwrap(x, "Normalize", pil_like=False)
        channels = x.shape[-3]
        if len(self.mean) not in (1, channels):
            raise ValueError(f"Normalize: {len(self.mean)} means and stds for an input with "
                             f"{channels} channels (input {x.shape})")
        if x.dtype not in self._cast:
            self._cast[x.dtype] = tuple(v.astype(x.dtype)[:, None, None]
                                        for v in (self.mean, self.std))
        mean, std = self._cast[x.dtype]
        out = x - mean
        out /= std
        return _wrap(out, is_tensor)


class _RandomTransform:
    def __init__(self, seed):
        self.generator = new_generator(seed)

    def state_dict(self) -> dict:
        return {"rng": self.generator.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.generator.bit_generator.state = state["rng"]


_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _padding(value) -> tuple[int, int, int, int]:
    """torchvision's padding (an int; left/right, top/bottom; or left, top, right, bottom)
    as (top, bottom, left, right)."""
    sides = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(sides) not in (1, 2, 4) or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
            for v in sides):
        raise ValueError(f"RandomCrop: padding must be an int >= 0, or 2 of them (left/right, "
                         f"top/bottom) or 4 (left, top, right, bottom) as in torchvision, got "
                         f"{value!r}")
    left, top, right, bottom = (sides * 4)[:4] if len(sides) == 1 else (
        sides * 2 if len(sides) == 2 else sides)
    return int(top), int(bottom), int(left), int(right)


class RandomCrop(_RandomTransform):
    """Pad an image by `padding` (torchvision's order: an int for every side, (left/right,
    top/bottom), or (left, top, right, bottom)) with `fill` or by `padding_mode` ("constant",
    "edge", "reflect", "symmetric"), then cut a `size` window (an int or (h, w)) at a
    uniformly random offset; in a batch, an independent offset per sample."""

    def __init__(self, size, padding=None, fill=0, padding_mode: str = "constant", seed=None):
        self.size = pair(size, "size", "RandomCrop", 1)
        self.padding = padding
        self._pad = (0, 0, 0, 0) if padding is None else _padding(padding)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.fill, self.padding_mode = fill, padding_mode
        super().__init__(seed)

    def __call__(self, x):
        x, is_tensor, layout = _unwrap(x, "RandomCrop")
        rows, cols = (0, 1) if layout == "hwc" else (x.ndim - 2, x.ndim - 1)
        shape, x = x.shape, self._padded(x, rows, cols)
        (ch, cw), height, width = self.size, x.shape[rows], x.shape[cols]
        if ch > height or cw > width:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the padded "
                             f"image ({height}, {width}) (input {shape}, padding "
                             f"{self.padding})")
        if layout == "nchw":
            n = x.shape[0]
            top = self.generator.integers(0, height - ch + 1, size=n)
            left = self.generator.integers(0, width - cw + 1, size=n)
            windows = sliding_window_view(x, (ch, cw), axis=(2, 3))  # (N, C, H', W', ch, cw)
            return _wrap(windows[np.arange(n), :, top, left], is_tensor)
        top = int(self.generator.integers(0, height - ch + 1))
        left = int(self.generator.integers(0, width - cw + 1))
        index = [slice(None)] * x.ndim
        index[rows], index[cols] = slice(top, top + ch), slice(left, left + cw)
        return _wrap(x[tuple(index)], is_tensor)

    def _padded(self, x: np.ndarray, rows: int, cols: int) -> np.ndarray:
        top, bottom, left, right = self._pad
        if not (top or bottom or left or right):
            return x
        width = [(0, 0)] * x.ndim
        width[rows], width[cols] = (top, bottom), (left, right)
        if self.padding_mode == "constant":
            return np.pad(x, width, constant_values=self.fill)
        return np.pad(x, width, mode=self.padding_mode)


class RandomHorizontalFlip(_RandomTransform):
    """Mirror an image left-right with probability p; in a batch, independently per sample."""

    def __init__(self, p: float = 0.5, seed=None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p
        super().__init__(seed)

    def __call__(self, image):
        x, is_tensor, layout = _unwrap(image, "RandomHorizontalFlip")
        if layout == "nchw":
            flip = self.generator.random(x.shape[0]) < self.p
            return _wrap(np.where(flip[:, None, None, None], x[..., ::-1], x), is_tensor)
        if self.generator.random() >= self.p:
            return image
        return _wrap(x[:, ::-1] if layout == "hwc" else x[..., ::-1], is_tensor)
