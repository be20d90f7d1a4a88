"""``tg.cuda``: PyTorch's CUDA queries, answered for a CPU-only library (see tensorgrad/devices.py)."""


def is_available() -> bool:
    """False: tensorgrad has no GPU device (yet)."""
    return False


def device_count() -> int:
    """0: no GPU device is available."""
    return 0
