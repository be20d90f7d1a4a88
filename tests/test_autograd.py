"""The tape and the backward engine: ordering, accumulation, freeing, grad mode, checks."""
import gc
import weakref

import numpy as np
import pytest

import tensorgrad as tg
from helpers import tg64
from tensorgrad.testing import gradcheck


class Square(tg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


def test_user_function_with_params_and_needs_input_grad():
    seen = {}

    class ScaledMul(tg.Function):
        @staticmethod
        def forward(ctx, a, b, *, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return scale * a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            seen["needs"] = ctx.needs_input_grad
            return (ctx.scale * grad * b if ctx.needs_input_grad[0] else None,
                    ctx.scale * grad * a if ctx.needs_input_grad[1] else None)

    a, b = tg64([1.0, 2.0]), tg64([3.0, 4.0], requires_grad=False)
    ScaledMul.apply(a, b, scale=2.5).sum().backward()
    assert seen["needs"] == (True, False)
    np.testing.assert_allclose(a.grad.data, [7.5, 10.0])
    gradcheck(lambda x, y: ScaledMul.apply(x, y, scale=-0.5), tg64([1.0, 2.0]), tg64([3.0, 4.0]))


def test_deep_chain_of_20000_ops_backpropagates_iteratively():
    x = tg64([1.0, 2.0])
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0001 ** 20_000] * 2)


def test_reused_node_gets_the_summed_gradient():
    x = tg64([1.5, -2.0])
    h = x * 3.0            # used three times below
    (h * h + h.exp() - h).sum().backward()
    h_val = x.data * 3
    np.testing.assert_allclose(x.grad.data, 3 * (2 * h_val + np.exp(h_val) - 1))


def test_leaf_gradients_accumulate_across_backward_calls():
    x = tg64([1.0, 2.0])
    Square.apply(x).sum().backward()
    Square.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 8.0])
    x.grad = None
    Square.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])


def test_second_backward_through_freed_graph_raises_unless_retained():
    x = tg64([1.0, 2.0])
    y = Square.apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()
    z = Square.apply(x).sum()
    x.grad = None
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 8.0])


def test_non_scalar_backward_needs_a_gradient_of_the_right_shape():
    y = tg64([[1.0, 2.0]]) * 2
    with pytest.raises(RuntimeError, match=r"only for a scalar output, this tensor has shape \(1, 2\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"the gradient has shape \(2,\), the tensor has shape \(1, 2\)"):
        y.backward(np.ones(2))


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg64([1.0], requires_grad=False).sum().backward()


def test_engine_rejects_wrong_gradient_shape_and_dtype_naming_the_op():
    class BadShape(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum(axis=0)

        @staticmethod
        def backward(ctx, grad):
            return grad

    class BadDtype(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.astype(np.float32)

    x = tg64(np.ones((3, 2)))
    with pytest.raises(RuntimeError, match=r"BadShape.backward returned a gradient of shape \(2,\) for "
                                           r"input 0 of shape \(3, 2\)"):
        BadShape.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"BadDtype.backward returned a float32 gradient for input 0 "
                                           r"of dtype float64"):
        BadDtype.apply(x).sum().backward()


def test_forward_must_return_an_array():
    class ReturnsList(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return [1, 2]

    with pytest.raises(TypeError, match="ReturnsList.forward must return one ndarray"):
        ReturnsList.apply(tg64([1.0]))


def test_no_grad_and_enable_grad_as_context_managers_and_decorators():
    x = tg64([1.0])
    with tg.no_grad():
        assert not (x * 2).requires_grad
        with tg.enable_grad():
            assert (x * 2).requires_grad
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def infer(t):
        return t * 2

    assert not infer(x).requires_grad and tg.is_grad_enabled()


def test_detach_and_requires_grad_():
    x = tg64([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    (d * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])  # no gradient flowed through d
    leaf = tg.tensor([1.0]).requires_grad_()
    assert leaf.requires_grad and leaf.is_leaf


def test_integer_tensors_never_require_grad():
    labels = tg.tensor([1, 2, 3])
    assert labels.dtype == np.int64
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients.*int64"):
        labels.requires_grad_()
    x = tg64([1.0, 2.0, 3.0])
    assert not (x > 1).requires_grad and not x.argmax().requires_grad


def test_graph_is_freed_after_backward():
    x = tg64(np.ones(1000))
    h = x.exp()
    ref, ctx_ref, array_ref = weakref.ref(h), weakref.ref(h._ctx), weakref.ref(h.data)
    y = (h * 2).sum()
    del h
    gc.collect()
    assert ref() is not None            # still reachable from y before backward
    y.backward()
    gc.collect()
    assert ref() is None and ctx_ref() is None and array_ref() is None


def test_hooks_and_retain_grad():
    x = tg64([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    handle = h.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 10 * 2 * h.data)
    np.testing.assert_allclose(x.grad.data, 3 * 10 * 2 * h.data)
    handle.remove()
    assert not h._hooks


def test_queue_callback_runs_after_every_gradient_is_accumulated():
    from tensorgrad.autograd import queue_callback
    w, b = tg64([1.0, 2.0]), tg64([3.0])
    seen = []
    w.register_hook(lambda g: queue_callback(lambda: seen.append((w.grad.data.copy(),
                                                                  b.grad.data.copy()))))
    ((w * w).sum() * b + w.sum() + b).backward()     # w gets three contributions, b later
    assert len(seen) == 3                             # one callback queued per hook call
    for w_grad, b_grad in seen:                       # each ran after the whole pass
        np.testing.assert_allclose(w_grad, 2 * w.data * 3 + 1)
        np.testing.assert_allclose(b_grad, [6.0])
    with pytest.raises(RuntimeError, match="queue_callback: no backward pass is running"):
        queue_callback(lambda: None)


def test_float32_stays_float32_through_a_composite_forward_and_backward():
    x = tg.randn(4, 5, requires_grad=True)
    w = tg.randn(5, 3, requires_grad=True)
    loss = ((x @ w).tanh().log_softmax(1) * 0.5 + (x.var(0) + 1).sqrt().mean()).mean()
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == w.grad.dtype == np.float32


def test_an_in_place_change_to_a_saved_array_makes_backward_raise_naming_the_op():
    # (these replace the read-only locking of saved arrays: a version counter per tensor)
    w = tg64(np.ones((3, 2)))
    x = tg64(np.ones((4, 3)), requires_grad=False)
    loss = (x @ w).sum()
    with tg.no_grad():
        w[0, 0] = 5.0                   # would silently corrupt dL/dx if backward went on
    with pytest.raises(RuntimeError, match=r"MatMul: .*\(input 1, float64 of shape \(3, 2\)\) "
                                           r"has been modified by an in-place operation: it is "
                                           r"at version 1; expected version 0"):
        loss.backward()
    (x @ w).sum().backward()            # a graph recorded after the change is fine
    np.testing.assert_array_equal(w.grad.data, 4 * np.ones((3, 2)))


def test_a_view_shares_its_base_version_counter_both_ways():
    w = tg64(np.ones((3, 2)))
    x = tg64(np.ones((4, 2)), requires_grad=False)
    out = x @ w.T                       # MatMul saves a view of w.data
    with tg.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match=r"MatMul: .*\(input 1, float64 of shape \(2, 3\)\)"):
        out.sum().backward()
    h = w * 2
    row = h[0]                          # a view of h's memory
    out = h.exp()                       # Exp saves its output, not h: unaffected
    y = h * h                           # Mul saves h
    with tg.no_grad():
        row.zero_()
    assert h._version == row._version == 1 and w._version == 1
    out.sum().backward(retain_graph=True)
    with pytest.raises(RuntimeError, match=r"Mul: .*\(input 0,"):
        y.sum().backward()


def test_an_array_saved_by_two_graphs_is_checked_by_each():
    w = tg64(np.ones(3))
    a, b = w * w, w * w
    a.sum().backward()
    with tg.no_grad():
        w[0] = 0.0                      # allowed: the graph that still needs w raises later
    with pytest.raises(RuntimeError, match="Mul: .* at version 1; expected version 0"):
        b.sum().backward()


def test_zero_dimensional_leaf_reused_keeps_its_dtype():
    x = tg.tensor(0.5, dtype="float64", requires_grad=True)
    (x + x).backward()     # found by the graph fuzzer: 0-d sums came back as NumPy scalars
    assert x.grad.dtype == np.float64 and x.grad.item() == 2.0
