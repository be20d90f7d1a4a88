"""Tools for testing gradients, public so users test their own ops the way we test ours.

`gradcheck` needs only NumPy; `tensorgrad.testing.strategies` needs hypothesis (a dev extra).
"""
from .gradcheck import GradcheckError, gradcheck

__all__ = ["gradcheck", "GradcheckError"]
