"""The op registry: every registered primitive passes check_op (float64 gradcheck, float32 in
-> float32 out and grads, determinism); check_op rejects a wrong backward, naming the op."""
import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.testing import GradcheckError
from tensorgrad.testing.builtin_ops import register_builtin_ops
from tensorgrad.testing.registry import check_op, registered_ops

register_builtin_ops()
SPECS = {spec.name: spec for spec in registered_ops()}


def test_every_primitive_is_registered():
    """Every public Function of every module in tensorgrad.ops (found, not listed)."""
    import importlib
    import inspect
    import pkgutil

    import tensorgrad.ops
    modules = [importlib.import_module(f"tensorgrad.ops.{info.name}")
               for info in pkgutil.iter_modules(tensorgrad.ops.__path__)]
    assert len(modules) >= 7
    primitives = {name for module in modules
                  for name, obj in inspect.getmembers(module, inspect.isclass)
                  if issubclass(obj, tg.Function) and obj.__module__ == module.__name__
                  and not name.startswith("_")}
    assert primitives - {"Cast"} <= set(SPECS), primitives - set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_registered_op_passes_check_op(name):
    check_op(SPECS[name])


class Swish(tg.Function):
    """The README's user-defined op: x * sigmoid(beta x), in under 20 lines."""

    @staticmethod
    def forward(ctx, x, *, beta=1.0):
        s = 0.5 * (1 + np.tanh(0.5 * beta * x))
        ctx.save_for_backward(x, s)
        ctx.beta = beta
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s + ctx.beta * x * s * (1 - s))


def test_user_defined_op_passes_check_op():
    from hypothesis import strategies as st
    check_op(Swish)
    check_op(Swish, params=st.fixed_dictionaries({"beta": st.floats(0.1, 3.0)}))


class WrongSwish(Swish):
    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s + x * s * s)       # forgot the (1 - s) factor


def test_check_op_rejects_a_wrong_backward_naming_the_op_and_worst_element():
    with pytest.raises(GradcheckError, match=r"check_op\(WrongSwish\).*wrong gradient for input 0 "
                                             r".* at index .*analytic .* numerical"):
        check_op(WrongSwish)


class NotFloat32(tg.Function):
    @staticmethod
    def forward(ctx, x):
        return x.astype(np.float64) * 2

    @staticmethod
    def backward(ctx, grad):
        return None


def test_check_op_rejects_an_op_that_changes_dtype():
    with pytest.raises((AssertionError, GradcheckError), match=r"check_op\(NotFloat32\)"):
        check_op(NotFloat32)


class Nondeterministic(tg.Function):
    """Right to 1e-9 (so gradcheck passes) but never the same twice."""

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        return grad * (1.0 + 1e-9 * np.random.default_rng().random())


def test_check_op_rejects_nondeterministic_gradients():
    with pytest.raises(AssertionError, match="different gradients for input 0"):
        check_op(Nondeterministic)


def test_strategies_reachable_from_the_testing_package():
    """The spelling DESIGN and the docs promise: the lazy attribute, not a submodule import."""
    import subprocess
    import sys
    code = ("from tensorgrad import testing; from hypothesis import given, settings\n"
            "seen = []\n"
            "@settings(max_examples=3, database=None)\n"
            "@given(testing.strategies.tensors())\n"
            "def f(t): seen.append(t)\n"
            "f(); assert seen, 'no example drawn'")
    subprocess.run([sys.executable, "-c", code], check=True)
