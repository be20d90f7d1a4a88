"""Shared test set-up: the hypothesis profiles every test file runs under (the float64
helpers and the PyTorch oracle live in tests/helpers.py).

Profiles: `ci` (derandomized, bounded, no deadline) when CI=true; `fuzz` (many examples) with
HYPOTHESIS_PROFILE=fuzz; `dev` otherwise.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
_default = "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))

