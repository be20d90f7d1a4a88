"""The global random generator behind randn, rand, weight initialisation and dropout, and the
seeds of the generators that shuffling and augmentation own; `manual_seed` makes all of them
reproducible."""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator (and return it). Seeds are integers from -2**63 to
    2**64 - 1, as in PyTorch, which also maps a negative seed to seed + 2**64."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"manual_seed: the seed must be an int, got {type(seed).__name__} "
                        f"{seed!r}")
    if not -2**63 <= seed < 2**64:
        raise ValueError(f"manual_seed: the seed must be in [-2**63, 2**64 - 1], got {seed}")
    _generator = np.random.default_rng(int(seed) % 2**64)
    return _generator


def generator() -> np.random.Generator:
    """The global generator."""
    return _generator


def new_generator(seed=None) -> np.random.Generator:
    """A generator of one's own (for a DataLoader or a transform): from an int seed, a
    Generator (returned as is), or None: then seeded from the global generator, so
    `manual_seed` makes it reproducible."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        seed = int(_generator.integers(2**63))
    return np.random.default_rng(seed)


def get_rng_state() -> dict:
    """The generator's state, for checkpoints."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state from `get_rng_state`."""
    _generator.bit_generator.state = state
