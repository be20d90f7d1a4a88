"""In-place operations, version counters and gradient assignment (PyTorch's rules)."""
import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import nn, optim

try:
    import torch
except ImportError:  # the oracle is optional: only the tests that compare with it skip
    torch = None
with_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")

RNG = np.random.default_rng(0)
X = RNG.uniform(0.5, 2.0, (3, 4))           # positive and away from 1: pow and div are smooth
Y = RNG.uniform(0.5, 2.0, (3, 4))
ROW = RNG.uniform(0.5, 2.0, (4,))
MASK = RNG.uniform(size=(3, 4)) > 0.5

# name, a call on (tensorgrad, torch) tensors x and the library module
IN_PLACE = [
    ("add_", lambda x, y, lib: x.add_(y)),
    ("add_ alpha", lambda x, y, lib: x.add_(y, alpha=-2.5)),
    ("add_ scalar", lambda x, y, lib: x.add_(3.0)),
    ("add_ broadcast row", lambda x, y, lib: x.add_(lib.tensor(ROW))),
    ("sub_", lambda x, y, lib: x.sub_(y)),
    ("sub_ alpha", lambda x, y, lib: x.sub_(y, alpha=0.5)),
    ("mul_", lambda x, y, lib: x.mul_(y)),
    ("mul_ scalar", lambda x, y, lib: x.mul_(-1.5)),
    ("div_", lambda x, y, lib: x.div_(y)),
    ("pow_", lambda x, y, lib: x.pow_(y)),
    ("pow_ scalar", lambda x, y, lib: x.pow_(2.5)),
    ("clamp_", lambda x, y, lib: x.clamp_(0.8, 1.5)),
    ("clamp_ min only", lambda x, y, lib: x.clamp_(min=1.1)),
    ("clamp_min_", lambda x, y, lib: x.clamp_min_(1.2)),
    ("clamp_max_", lambda x, y, lib: x.clamp_max_(0.9)),
    ("zero_", lambda x, y, lib: x.zero_()),
    ("fill_", lambda x, y, lib: x.fill_(-7.25)),
    ("copy_", lambda x, y, lib: x.copy_(y)),
    ("copy_ broadcast", lambda x, y, lib: x.copy_(lib.tensor(ROW))),
    ("masked_fill_", lambda x, y, lib: x.masked_fill_(lib.tensor(MASK), 0.25)),
] + [(f"{name}_", lambda x, y, lib, name=name: getattr(x.sub_(1.2), f"{name}_")())
     for name in ("neg", "exp", "abs", "relu", "sigmoid", "tanh")] + [
    ("log_", lambda x, y, lib: x.log_()),
    ("sqrt_", lambda x, y, lib: x.sqrt_()),
]


def _iop(op):
    def call(x, y, lib):
        if op == "+":
            x += y
        elif op == "-":
            x -= y
        elif op == "*":
            x *= y
        else:
            x /= y
        return x
    return call


IN_PLACE += [(f"x {op}= y", _iop(op)) for op in "+-*/"]


@with_torch
@pytest.mark.parametrize("name, call", IN_PLACE, ids=[n for n, _ in IN_PLACE])
def test_in_place_ops_change_the_tensor_itself_as_pytorch_does(name, call):
    x, y = tg.tensor(X, dtype=tg.float32), tg.tensor(Y, dtype=tg.float32)
    memory = x.data
    result = call(x, y, tg)
    tx = torch.tensor(X, dtype=torch.float32)
    call(tx, torch.tensor(Y, dtype=torch.float32), torch)
    assert result is x and x.data is memory and x.dtype == np.float32
    assert x._version == tx._version    # one per in-place op, as PyTorch counts
    np.testing.assert_allclose(x.data, tx.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(y.data, np.float32(Y))       # the operand is untouched


def test_in_place_ops_keep_the_dtype_and_refuse_what_does_not_fit():
    x = tg.ones(3)
    x += tg.ones(3, dtype="float64")                     # float64 operand, float32 result
    assert x.dtype == np.float32 and x.data.tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match=r"add_: an operand of shape \(2, 3\) cannot be written "
                                         r"into a tensor of shape \(3,\) in place"):
        x.add_(tg.ones(2, 3))                            # torch: also an error
    counts = tg.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="div_: cannot write the result into this int64 tensor"):
        counts.div_(2)                                   # torch: "result type Float can't be cast"
    counts += 2
    assert counts.data.tolist() == [3, 4, 5] and counts._version == 1
    with pytest.raises(ValueError, match="mul_: this tensor's memory is read-only"):
        tg.ones(3).expand(2, 3).mul_(2)
    with pytest.raises(ValueError, match="clamp_: at least one of min and max"):
        x.clamp_()
    with pytest.raises(TypeError, match="masked_fill_: the mask must be bool"):
        x.masked_fill_(tg.tensor([1, 0, 1]), 0.0)
    with pytest.raises(ValueError, match=r"setitem: could not broadcast .* \(tensor of shape \(3,\)\)"):
        x[:2] = tg.ones(3)
    with pytest.raises(IndexError, match=r"setitem: index 3 is out of bounds .* \(tensor of shape \(3,\)\)"):
        x[3] = 1.0
    assert x._version == 1                               # refused ops change nothing


def test_random_fills_use_the_global_generator():
    tg.manual_seed(3)
    a = tg.zeros(2000).normal_(1.0, 2.0)
    b = tg.zeros(2000).uniform_(-1.0, 3.0)
    tg.manual_seed(3)
    assert np.array_equal(tg.zeros(2000).normal_(1.0, 2.0).data, a.data)
    assert abs(a.data.mean() - 1.0) < 0.2 and abs(a.data.std() - 2.0) < 0.2
    assert b.data.min() >= -1.0 and b.data.max() < 3.0 and abs(b.data.mean() - 1.0) < 0.1
    assert a.dtype == b.dtype == np.float32 and a._version == b._version == 1


@with_torch
def test_manual_sgd_update_under_no_grad_changes_the_parameter_itself():
    w = tg.tensor(X, dtype="float64", requires_grad=True)
    tw = torch.tensor(X, requires_grad=True)
    target, ttarget = tg.tensor(Y, dtype="float64"), torch.tensor(Y)
    for _ in range(3):
        ((w * w - target) ** 2).sum().backward()
        ((tw * tw - ttarget) ** 2).sum().backward()
        with tg.no_grad():
            w -= 0.01 * w.grad
        with torch.no_grad():
            tw -= 0.01 * tw.grad
        w.grad, tw.grad = None, None
    assert w.requires_grad and w.is_leaf and w._version == 3
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12)


def test_an_in_place_op_on_a_leaf_that_requires_grad_is_refused_while_recording():
    w = tg.ones(3, requires_grad=True)
    for call in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.copy_(tg.ones(3))):
        with pytest.raises(RuntimeError, match=r"_: a leaf tensor that requires grad \(shape \(3,\)\) "
                                               r"is being used in an in-place operation"):
            call()
    with pytest.raises(RuntimeError, match="sub_: a leaf tensor that requires grad"):
        w -= 1
    assert w._version == 0 and w.data.tolist() == [1, 1, 1]


def test_nn_init_works_while_an_older_graph_through_the_weights_is_alive():
    layer = nn.Linear(3, 2)
    x = tg.ones(4, 3)
    out = layer(x)                       # saves the weight; never backpropagated
    version = layer.weight._version      # (the constructor's own init counted already)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    assert layer.weight._version == version + 1
    with pytest.raises(RuntimeError, match=r"Linear: one of the arrays it saved .*\(input 1, float32 of "
                                           rf"shape \(2, 3\)\).* at version {version + 1}; expected "
                                           rf"version {version}"):
        out.sum().backward()             # PyTorch raises here too
    layer(x).sum().backward()            # a graph recorded after the init is fine
    np.testing.assert_array_equal(layer.bias.grad.data, [4, 4])


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                                  lambda p: optim.Adam(p, lr=0.1)], ids=["SGD", "Adam"])
def test_an_optimizer_step_after_a_forward_that_is_never_backpropagated(make):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = make(model.parameters())
    x = tg.tensor(X[:, :3])
    model(x).sum().backward()
    kept = model(x)                      # e.g. a logged prediction: still referenced
    before = [(p.data.copy(), p._version) for p in model.parameters()]
    opt.step()
    for (data, version), p in zip(before, model.parameters()):
        assert not np.array_equal(data, p.data) and p._version == version + 1
        assert p.data.flags.writeable
    with pytest.raises(RuntimeError, match="has been modified by an in-place operation"):
        kept.sum().backward()
    opt.zero_grad()
    model(x).sum().backward()            # training goes on
    opt.step()


def test_load_state_dict_counts_as_an_in_place_change():
    layer = nn.Linear(3, 2)
    out = layer(tg.ones(1, 3))
    layer.load_state_dict(nn.Linear(3, 2).state_dict())
    with pytest.raises(RuntimeError, match="Linear: one of the arrays it saved"):
        out.sum().backward()


def test_a_write_through_a_raw_numpy_alias_is_not_detected():
    # documented in docs/architecture.md: only writes through tensorgrad are counted; a NumPy
    # write into x.data or into an array sharing its memory changes the saved values unseen
    a = np.ones(3)
    alias = a[:]                         # taken before Tensor(a)
    x = tg.Tensor(a, requires_grad=True)
    loss = (x * x).sum()
    alias[:] = 100.0
    loss.backward()                      # no error: the gradient uses the changed values
    np.testing.assert_array_equal(x.grad.data, [200.0, 200.0, 200.0])
    y = tg.ones(3, requires_grad=True)
    loss = (y * y).sum()
    y.data[0] = 5.0                      # a NumPy write into .data: not counted either ...
    tg.autograd.increment_version(y)     # ... unless the writer says so
    with pytest.raises(RuntimeError, match="Mul: one of the arrays it saved"):
        loss.backward()


def test_assigning_grad_accepts_a_matching_tensor_or_none_only():
    w = tg.ones(2, 3, requires_grad=True)
    w.grad = tg.full((2, 3), 0.5)
    assert w.grad.data.sum() == 3.0
    w.grad = None
    assert w.grad is None
    with pytest.raises(TypeError, match=r"grad: expected a Tensor or None, got float \(for a tensor of "
                                        r"shape \(2, 3\)\)"):
        w.grad = 0.0
    with pytest.raises(TypeError, match="grad: expected a Tensor or None, got ndarray"):
        w.grad = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"grad: the gradient has shape \(3, 2\), the tensor has "
                                         r"shape \(2, 3\)"):
        w.grad = tg.zeros(3, 2)
    with pytest.raises(TypeError, match=r"grad: the gradient is float64, the tensor is float32 "
                                        r"\(shape \(2, 3\)\)"):
        w.grad = tg.zeros(2, 3, dtype="float64")
    assert w.grad is None


@with_torch
def test_pytorch_refuses_the_same_gradient_assignments():
    tw = torch.ones(2, 3, requires_grad=True)
    for bad in (0.0, torch.zeros(3, 2), torch.zeros(2, 3, dtype=torch.float64)):
        with pytest.raises((TypeError, RuntimeError)):
            tw.grad = bad


# ---------------------------------------------------------------- recorded in-place ops

def _both(program, second_order=False):
    """Run program(x, w, zeros) with tensorgrad and with PyTorch (float64, x and w require
    grad); return each one's (loss, x.grad, w.grad)."""
    results = []
    for lib in (tg, torch):
        x, w = (lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in (X, Y))
        loss = program(x, w, lambda *shape: lib.zeros(*shape, dtype=lib.float64))
        if second_order:
            gx, gw = (tg.grad if lib is tg else torch.autograd.grad)(loss, [x, w], create_graph=True)
            loss = gx.sum() + (gw * gw).sum()
        loss.backward()
        results.append([np.asarray(t.detach().numpy() if lib is torch else t.data)
                        for t in (loss, x.grad, w.grad)])
    return results


def _chain(x, w, zeros):
    y = x * 2
    z = y + 1                  # recorded before the in-place ops: must see the old y
    y.mul_(w)
    y += 3
    y.div_(w + 1)
    y.pow_(2)
    y.clamp_(1.0, 30.0)
    y.sub_(x, alpha=0.5)
    return (z * z).sum() + (y * w).sum()


def _into_zeros(x, w, zeros):
    buf = zeros(3, 4)          # a leaf without grad becomes part of the graph
    buf.add_(x)
    buf.mul_(w)
    buf.add_(buf)              # an operand that is the tensor itself
    return (buf * buf).sum()


def _setitem(x, w, zeros):
    buf = zeros(5, 4)
    buf[1] = x[0]
    buf[2:] = x * w
    buf[[0, 4], [1, 1]] = w[0, :2]
    buf[0, 3] = 5.0
    return (buf * buf).sum()


def _overwrites(x, w, zeros):
    out = x * w
    out += x                   # a residual connection
    h = x * 1.5
    h.masked_fill_(h.data > 2, 0.5)
    g = x * w
    g.copy_(w * 3)             # x gets no gradient through g any more
    k = w * 1.0
    k.zero_()
    k.fill_(2.0)
    return out.relu().sum() + (h * w).sum() + (g * g).sum() + (k * x).sum()


def _unary(x, w, zeros):
    loss = 0
    for name in ("abs", "sqrt", "neg", "exp", "log", "relu", "sigmoid", "tanh"):
        y = x - 1.1 if name in ("abs", "relu", "neg") else x * w
        getattr(y, f"{name}_")()
        loss = loss + (y * w).sum()
    return loss


@with_torch
@pytest.mark.parametrize("program", [_chain, _into_zeros, _setitem, _overwrites, _unary])
def test_in_place_ops_on_tensors_in_the_graph_are_recorded_as_pytorch_does(program):
    mine, theirs = _both(program)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def _smooth_chain(x, w, zeros):
    y = x * 1.0
    z = y + 1                  # recorded before: sees the old y
    y.mul_(x)
    y.div_(w)                  # saves its output: reached as the moved node under create_graph
    y.add_(x, alpha=2)
    y -= w
    return (y * y).sum() + (z * z * w).sum()


@with_torch
@pytest.mark.parametrize("program", [_smooth_chain, _into_zeros])
def test_second_derivatives_through_recorded_in_place_ops(program):
    mine, theirs = _both(program, second_order=True)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9)


def test_setitem_with_repeated_indices_gives_the_surviving_write_its_gradient():
    from tensorgrad.testing import gradcheck
    w = tg.tensor(Y[0], dtype="float64", requires_grad=True)
    x = tg.tensor(X, dtype="float64", requires_grad=True)

    def program(x, w):
        out = x * 1.0
        out[[0, 0, 2], [1, 1, 3]] = w[:3]      # w[0] is overwritten by w[1]
        return out * out
    assert gradcheck(program, x, w)
    program(x, w).sum().backward()
    assert w.grad.data[0] == 0.0 and w.grad.data[1] == 2 * Y[0, 1]


@with_torch
def test_a_changed_saved_output_raises_where_pytorch_raises():
    for lib in (tg, torch):
        x = lib.tensor(X, dtype=lib.float32, requires_grad=True)
        y = x.exp()            # exp saves its output
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation|"
                                               "Exp: .*\\(its output, float32 of shape \\(3, 4\\)\\)"):
            y.sum().backward()


def _no_grad(lib, change):
    with lib.no_grad():
        change()


# (name, program on (lib, x, w) returning the loss, whether PyTorch and tensorgrad raise)
VERSION_CASES = [
    ("exp output changed", lambda lib, x, w: (lambda y: (y.add_(1), y.sum())[1])(x.exp()), True),
    ("sigmoid output changed", lambda lib, x, w: (lambda y: (y.mul_(2), y.sum())[1])(x.sigmoid()), True),
    ("tanh output clamped", lambda lib, x, w: (lambda y: (y.clamp_(-0.5, 0.5), y.sum())[1])(x.tanh()), True),
    ("saved weight changed", lambda lib, x, w: (lambda y: (_no_grad(lib, lambda: w.add_(1)), y.sum())[1])(x * w), True),
    ("saved leaf set by index", lambda lib, x, w: (lambda y: (_no_grad(lib, lambda: x.__setitem__(0, 5.0)), y.sum())[1])(x * x), True),
    ("saved through a transposed view", lambda lib, x, w: (lambda y: (_no_grad(lib, lambda: w.mul_(2)), y.sum())[1])(x @ w.T), True),
    ("non-leaf saved by mul, then changed", lambda lib, x, w: (lambda y: (lambda z: (y.add_(1), z.sum())[1])(y * y))(x * 2), True),
    ("unsaved weight changed", lambda lib, x, w: (lambda y: (_no_grad(lib, lambda: w.add_(1)), y.sum())[1])(x + w), False),
    ("mul_ by a number", lambda lib, x, w: (lambda y: (y.mul_(3), (y * y).sum())[1])(x * 2), False),
    ("fresh graph after the change", lambda lib, x, w: (_no_grad(lib, lambda: w.zero_()), (x * w).sum())[1], False),
]


@with_torch
@pytest.mark.parametrize("name, program, raises", VERSION_CASES, ids=[c[0] for c in VERSION_CASES])
def test_backward_after_an_in_place_change_raises_exactly_where_pytorch_raises(name, program, raises):
    for lib in (tg, torch):
        x = lib.tensor(X, requires_grad=True)
        w = lib.tensor(Y, requires_grad=True)
        loss = program(lib, x, w)
        if raises:
            with pytest.raises(RuntimeError, match="modified by an inplace operation|"
                                                   "has been modified by an in-place operation"):
                loss.backward()
        else:
            loss.backward()


@pytest.mark.parametrize("init", ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_",
                                  "kaiming_uniform_", "kaiming_normal_", "zeros_", "ones_"])
def test_every_init_counts_as_an_in_place_change(init):
    w = tg.ones(3, 4, requires_grad=True)
    out = (tg.ones(2, 3) @ w).sum()
    assert getattr(nn.init, init)(w) is w and w._version == 1 and w.requires_grad
    with pytest.raises(RuntimeError, match="MatMul: one of the arrays it saved"):
        out.backward()


def test_in_place_on_a_tensor_sharing_memory_is_refused_while_recording():
    x = tg.tensor(X, requires_grad=True)
    y = x * 2
    row = y[0]                 # a view: y's memory has two tensors now
    for change in (lambda: y.add_(1), lambda: row.mul_(2)):
        with pytest.raises(RuntimeError, match=r"_: this tensor \(shape \(.*\)\) shares its memory "
                                               "with another tensor"):
            change()
    with tg.no_grad():
        row.mul_(2)            # outside recording: allowed and counted
    assert y._version == row._version == 1


def test_an_in_place_op_on_an_int_tensor_with_a_grad_operand_is_refused():
    with pytest.raises(TypeError, match="add_: an operand requires grad but this int64 tensor"):
        tg.tensor([1, 2]).add_(tg.ones(2, requires_grad=True))


# ---------------------------------------------------------------- hooks, complex, threads

def test_a_hook_returning_a_gradient_of_another_shape_or_dtype_is_an_error_naming_it():
    def widen(grad):
        return tg.ones(4)

    x = tg.ones(3, requires_grad=True)
    x.register_hook(widen)
    with pytest.raises(RuntimeError, match=r"hook .*widen returned a float32 gradient of shape "
                                           r"\(4,\) for a float32 tensor of shape \(3,\)"):
        (x * 2).sum().backward()
    y = tg.ones(3, requires_grad=True)
    h = y * 2
    h.register_hook(lambda grad: grad.double())
    with pytest.raises(RuntimeError, match=r"hook .*<lambda> returned a float64 gradient of "
                                           r"shape \(3,\) for a float32 tensor"):
        h.sum().backward()
    z = tg.ones(3, requires_grad=True)
    z.register_hook(lambda grad: grad.data * 2)
    with pytest.raises(TypeError, match="hook .* returned a ndarray; a tensor hook returns a Tensor"):
        (z * 2).sum().backward()
    t = tg.ones(3, requires_grad=True)
    t.register_hook(lambda grad: grad * 3)    # the right shape and dtype: replaces the gradient
    (t * 2).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [6, 6, 6])


def test_complex_tensors_are_refused_for_gradients():
    with pytest.raises(TypeError, match=r"complex tensors cannot require gradients \(this one is "
                                        r"complex128 with shape \(\)\)"):
        tg.tensor(1 + 1j, requires_grad=True)    # (z * z).abs() would have a wrong gradient
    z = tg.tensor(np.array([1 + 1j]))
    assert (z * z).abs().item() == pytest.approx(2.0)   # without gradients complex works
    w = tg.ones(1, dtype="float64", requires_grad=True)
    with pytest.raises(TypeError, match=r"Mul: a complex result \(complex128, shape \(1,\)\) "
                                        "cannot be recorded for gradients"):
        z * w
    with tg.no_grad():
        assert (z * w).dtype == np.complex128


def test_threads_sharing_a_model_backpropagate_concurrently():
    import sys
    import threading

    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).to("float64")
    x = tg.tensor(RNG.standard_normal((5, 6)), dtype="float64")
    model(x).sum().backward()
    single = [p.grad.data.copy() for p in model.parameters()]
    model.zero_grad()
    errors, threads, rounds = [], 4, 25

    def work():
        try:
            for _ in range(rounds):
                model(x).sum().backward()         # each thread its own graph
                kept = model(x)                   # and one that is dropped unused
                del kept
        except Exception as error:                # noqa: BLE001 - reported below
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    for p, g in zip(model.parameters(), single):     # every contribution arrived
        np.testing.assert_allclose(p.grad.data, threads * rounds * g, rtol=1e-10)
        assert p.data.flags.writeable


def test_a_tensor_changed_in_place_in_a_loop_keeps_no_old_values_after_backward():
    import gc
    import weakref

    w = tg.ones(1000, requires_grad=True)
    acc = tg.zeros(1000)
    olds = []
    for _ in range(5):
        acc.mul_(w)                          # records a copy of the old value
        olds.append(weakref.ref(acc._history[1]()))
        acc.add_(w)
    acc.sum().backward()
    np.testing.assert_array_equal(w.grad.data, np.full(1000, 15.0))  # d/dw of 5 (acc*w + w)
    gc.collect()
    assert all(ref() is None for ref in olds)


def test_an_earlier_consumer_after_the_shared_graph_was_freed_raises_clearly():
    x = tg.ones(3, requires_grad=True)
    y = x * 2
    z = y + 1
    y.mul_(3)
    y.sum().backward()                       # frees y's old node, which z needs too
    with pytest.raises(RuntimeError, match="trying to backward through the graph a second time"):
        z.sum().backward()


def test_clone_is_a_copy_on_the_tape_that_can_be_changed_in_place():
    w = tg.tensor(X, dtype="float64", requires_grad=True)
    c = w.clone()
    assert c.data is not w.data and not np.shares_memory(c.data, w.data) and c.dtype == w.dtype
    c.mul_(w)                                  # the usual fix for the leaf error
    c.sum().backward()
    np.testing.assert_allclose(w.grad.data, 2 * X)
    np.testing.assert_array_equal(w.data, X)
    assert tg.tensor([1, 2]).clone().data.tolist() == [1, 2]


@with_torch
def test_hooks_registered_before_an_in_place_op_see_the_old_value_as_in_pytorch():
    seen = {}
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g, lib=lib: seen.__setitem__((lib, "before"), g.numpy().copy()))
        y.mul_(3)
        y.register_hook(lambda g, lib=lib: seen.__setitem__((lib, "after"), g.numpy().copy()))
        y.retain_grad()
        (y * y).sum().backward()
        seen[lib, "grad"] = y.grad.numpy().copy()
    for key in ("before", "after", "grad"):
        np.testing.assert_array_equal(seen[tg, key], seen[torch, key])
