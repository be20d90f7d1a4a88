"""In-place operations, version counters and gradient assignment (PyTorch's rules)."""
import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import nn, optim

torch = pytest.importorskip("torch")

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


@pytest.mark.parametrize("name, call", IN_PLACE, ids=[n for n, _ in IN_PLACE])
def test_in_place_ops_change_the_tensor_itself_as_pytorch_does(name, call):
    x, y = tg.tensor(X), tg.tensor(Y)
    memory, version = x.data, x._version
    result = call(x, y, tg)
    tx = torch.tensor(X, dtype=torch.float32)
    call(tx, torch.tensor(Y, dtype=torch.float32), torch)
    assert result is x and x.data is memory and x.dtype == np.float32
    assert x._version == version + 1
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
    tw = torch.ones(2, 3, requires_grad=True)           # PyTorch refuses the same three
    for bad in (0.0, torch.zeros(3, 2), torch.zeros(2, 3, dtype=torch.float64)):
        with pytest.raises((TypeError, RuntimeError)):
            tw.grad = bad
