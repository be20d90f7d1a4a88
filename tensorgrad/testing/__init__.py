"""Tools for testing gradients, public so users test their own ops the way we test ours.

`gradcheck` needs only NumPy. `check_op`, `register_op` and `tensorgrad.testing.strategies`
need hypothesis (the `dev` extra) and are imported on first use.
"""
from .gradcheck import GradcheckError, gradcheck

__all__ = ["gradcheck", "GradcheckError", "check_op", "register_op", "registered_ops"]


def __getattr__(name):
    if name in ("check_op", "register_op", "registered_ops"):
        from . import registry
        return getattr(registry, name)
    if name == "strategies":
        import importlib
        return importlib.import_module(".strategies", __name__)
    raise AttributeError(f"module 'tensorgrad.testing' has no attribute {name!r}")
