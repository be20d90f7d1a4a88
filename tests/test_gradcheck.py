"""gradcheck itself: it passes right gradients and catches wrong ones (the negative controls)."""
import numpy as np
import pytest

import tensorgrad as tg
from helpers import tg64
from tensorgrad.testing import GradcheckError, gradcheck


def _cube_with_backward(scale, twice_differentiable=False):
    """x ** 3 with backward scale * x^2 * grad (right for scale 3), written with operators
    only, so it may declare differentiable_backward."""
    class Cube(tg.Function):
        differentiable_backward = twice_differentiable

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return scale * x * x * grad

    return Cube


def test_right_gradient_passes():
    x = tg64(np.random.default_rng(0).standard_normal((3, 4)))
    assert gradcheck(_cube_with_backward(3.0).apply, x)


def test_wrong_gradient_is_reported_with_input_index_and_values():
    x = tg64(np.random.default_rng(0).standard_normal((3, 4)))
    with pytest.raises(GradcheckError, match=r"wrong gradient for input 0 \(shape \(3, 4\)\) at index "
                                             r"\(\d, \d\): analytic .* numerical .* error"):
        gradcheck(_cube_with_backward(3.001).apply, x)


def test_wrong_gradient_is_caught_in_random_projection_mode_for_large_inputs():
    x = tg64(np.random.default_rng(1).standard_normal((40, 30)))
    assert gradcheck(_cube_with_backward(3.0).apply, x)
    with pytest.raises(GradcheckError, match="random direction"):
        gradcheck(_cube_with_backward(2.99).apply, x)


def test_a_single_wrong_element_is_caught():
    class OffByOne(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            g = grad * 2
            g[1, 2] += 1e-3
            return g

    with pytest.raises(GradcheckError, match=r"at index \(1, 2\).*\(1 of 12 values"):
        gradcheck(OffByOne.apply, tg64(np.ones((3, 4))))


def test_missing_gradient_is_caught():
    x, y = tg64([1.0, 2.0]), tg64([3.0, 4.0])
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: a * b.detach(), x, y)


def test_float32_inputs_are_refused():
    with pytest.raises(TypeError, match="gradcheck: input 0 is float32"):
        gradcheck(lambda a: a * 2, tg.tensor([1.0], requires_grad=True))


def test_leaves_existing_grads_untouched():
    x = tg64([1.0, 2.0])
    x.grad = tg.tensor([5.0, 5.0], dtype="float64")
    gradcheck(lambda a: a * a, x)
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])


TwiceDifferentiableCube = _cube_with_backward(3.0, twice_differentiable=True)


def test_second_order_gradcheck_passes_for_a_backward_built_from_tensor_ops():
    x = tg64(np.random.default_rng(2).standard_normal((2, 3)))
    assert gradcheck(lambda t: TwiceDifferentiableCube.apply(t) * 0.5, x, second_order=True)
    (g,) = tg.grad(TwiceDifferentiableCube.apply(x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


def test_second_order_gradcheck_catches_a_wrong_second_derivative():
    class WrongSecond(TwiceDifferentiableCube):
        @staticmethod
        def forward(ctx, x):
            ctx.constant_x = x.copy()   # a plain attribute: not connected to the graph
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            return 3 * ctx.constant_x * ctx.constant_x * grad  # first order right, second 0

    x = tg64(np.random.default_rng(3).standard_normal((2, 3)))
    assert gradcheck(WrongSecond.apply, x)
    assert gradcheck(TwiceDifferentiableCube.apply, x, second_order=True)
    with pytest.raises(GradcheckError, match="wrong gradient for input 0"):
        gradcheck(WrongSecond.apply, x, second_order=True)


def test_second_order_through_an_ndarray_backward_says_once_differentiable():
    x = tg64([0.5, -1.0])
    with pytest.raises(RuntimeError, match="Abs is once-differentiable"):
        gradcheck(lambda t: t.abs(), x, second_order=True)


def test_second_order_of_composites_built_from_twice_differentiable_primitives():
    rng = np.random.default_rng(4)
    x, w = tg64(rng.standard_normal((3, 4))), tg64(rng.standard_normal((4, 2)))
    assert gradcheck(lambda a, b: ((a @ b).tanh().sigmoid() / (a * a + 1).sqrt().sum()).exp(),
                     x, w, second_order=True)
    assert gradcheck(lambda a: a.log_softmax(1) * a.softmax(0), x, second_order=True)


def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = tg64([1.0, 2.0]), tg64([3.0, 4.0])
    gx, gy = tg.grad((x * y).sum(), [x, y])
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    np.testing.assert_array_equal(gy.data, [1.0, 2.0])
    assert x.grad is None and y.grad is None
    gx, unused = tg.grad((x * 2).sum(), [x, y])
    assert unused is None and x.grad is None
    np.testing.assert_array_equal(gx.data, [2.0, 2.0])
