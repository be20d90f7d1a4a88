"""The Module API PyTorch scripts use: forward, pre-forward and full backward hooks (against
PyTorch in float64), parameters(recurse=), named_parameters(prefix=, recurse=),
register_module, parameter counts, load_state_dict's value checks, and nn.utils'
clip_grad_value_, parameters_to_vector and vector_to_parameters."""
import numpy as np
import pytest

import tensorgrad as tg
from helpers import tg64
from tensorgrad import nn

torch = pytest.importorskip("torch")


def twin_mlps(seed=0):
    """A small float64 MLP and its torch twin with the same weights (4 -> 5 -> 3)."""
    ours = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).to("float64")
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(),
                                 torch.nn.Linear(5, 3)).double()
    theirs.load_state_dict({k: torch.tensor(np.array(v)) for k, v in ours.state_dict().items()})
    return ours, theirs


def test_forward_pre_hook_and_forward_hook_match_torch():
    ours, theirs = twin_mlps()
    calls = {"ours": [], "theirs": []}
    for net, key in ((ours, "ours"), (theirs, "theirs")):
        net[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        net[1].register_forward_hook(lambda m, args, out, key=key: calls[key].append(out.shape)
                                     or out + 1)
    x = np.random.default_rng(1).standard_normal((6, 4))
    got = ours(tg64(x, requires_grad=False)).data
    want = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert calls["ours"] == [(6, 5)] and list(calls["theirs"][0]) == [6, 5]


def test_hook_handles_remove_the_hook():
    layer = nn.Linear(2, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append(1))
    layer(tg.ones(1, 2))
    handle.remove()
    handle.remove()  # removing twice is harmless
    layer(tg.ones(1, 2))
    assert seen == [1]
    with pytest.raises(TypeError, match="register hook: expected a function, got int"):
        layer.register_forward_hook(3)


def test_full_backward_hook_sees_torchs_grad_input_and_grad_output():
    ours, theirs = twin_mlps()
    got, want = [], []
    ours[2].register_full_backward_hook(
        lambda m, gi, go: got.append((gi[0].data.copy(), go[0].data.copy())))
    theirs[2].register_full_backward_hook(
        lambda m, gi, go: want.append((gi[0].numpy().copy(), go[0].numpy().copy())))
    rng = np.random.default_rng(2)
    x, upstream = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
    ours(tg64(x)).backward(upstream)
    theirs(torch.tensor(x, requires_grad=True)).backward(torch.tensor(upstream))
    assert len(got) == len(want) == 1
    for a, b in zip(got[0], want[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_full_backward_hook_can_replace_grad_input_as_in_torch():
    ours, theirs = twin_mlps()
    ours[2].register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
    theirs[2].register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
    rng = np.random.default_rng(3)
    x, upstream = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
    ours(tg64(x)).backward(upstream)
    theirs(torch.tensor(x, requires_grad=True)).backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours[0].weight.grad.data, theirs[0].weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours[2].weight.grad.data, theirs[2].weight.grad.numpy(), rtol=1e-12)


def test_full_backward_hook_on_a_first_layer_gets_none_for_its_input():
    layer = nn.Linear(3, 2)
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    layer(tg.ones(4, 3)).sum().backward()
    assert seen == [((None,), (4, 2))]


def test_full_backward_hook_replacement_of_the_wrong_shape_is_an_error():
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (tg.ones(5),))
    x = tg.ones(4, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Linear backward hook returned a gradient of shape "
                                           r"\(5,\) and dtype float32 for an input of shape "
                                           r"\(4, 3\)"):
        layer(x).sum().backward()


def test_parameters_recurse_prefix_and_register_module():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    net.register_parameter("scale", nn.Parameter(tg.ones(1)))
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert len(list(net.parameters(recurse=False))) == 1
    assert [n for n, _ in net.named_parameters(prefix="model")] == [
        "model.scale", "model.0.weight", "model.0.bias", "model.1.weight", "model.1.bias"]
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    theirs.register_parameter("scale", torch.nn.Parameter(torch.ones(1)))
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    net.register_module("head", nn.Linear(1, 1))
    assert net.head is net._modules["head"]
    assert [n for n, _ in net.named_children()] == ["0", "1", "head"]
    bn = nn.BatchNorm1d(3)
    assert [n for n, _ in bn.named_buffers(prefix="bn")] == [
        "bn." + n for n, _ in torch.nn.BatchNorm1d(3).named_buffers()]


def test_num_parameters_counts_shared_parameters_once_and_trainable_only():
    shared = nn.Linear(4, 4)
    net = nn.Sequential(shared, nn.ReLU(), shared, nn.Linear(4, 2))
    assert net.num_parameters() == 20 + 10
    net[3].requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 20


@pytest.mark.parametrize("value, message", [
    ("weights", "the value for 'weight' is a str, not an array of numbers"),
    (None, "the value for 'weight' is a NoneType, not an array of numbers"),
    (object(), "the value for 'weight' is a object of dtype object, not an array of numbers"),
    ([[1, 2], [3]], "the value for 'weight' is not an array of numbers"),
])
def test_load_state_dict_refuses_values_that_are_not_arrays_of_numbers(value, message):
    layer = nn.Linear(2, 2)
    before = layer.weight.data.copy()
    with pytest.raises(TypeError, match=message):
        layer.load_state_dict({"weight": value, "bias": np.zeros(2)})
    np.testing.assert_array_equal(layer.weight.data, before)
    with pytest.raises(TypeError, match="load_state_dict: expected a dict of arrays, got list"):
        layer.load_state_dict([1, 2])


def test_clip_grad_value_matches_torch():
    rng = np.random.default_rng(4)
    grads = [rng.standard_normal(s) * 3 for s in ((3, 4), (5,))]
    ours = [tg64(np.zeros(g.shape)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = tg.tensor(g.copy(), dtype="float64"), torch.tensor(g.copy())
    nn.utils.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())
    assert np.abs(ours[0].grad.data).max() == 1.5
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be a non-negative"):
        nn.utils.clip_grad_value_(ours, -1)


def test_parameters_to_vector_and_back_match_torch_and_are_differentiable():
    ours, theirs = twin_mlps()
    vec = nn.utils.parameters_to_vector(ours.parameters())
    np.testing.assert_array_equal(
        vec.data, torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy())
    weights = np.arange(vec.shape[0], dtype=np.float64)
    (vec * tg.tensor(weights, dtype="float64")).sum().backward()
    np.testing.assert_array_equal(ours[0].bias.grad.data, weights[20:25])
    new = np.random.default_rng(5).standard_normal(vec.shape[0])
    nn.utils.vector_to_parameters(tg.tensor(new, dtype="float64"), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs.parameters())
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_array_equal(a, b.numpy(), err_msg=name)
    with pytest.raises(ValueError, match="the vector has 3 elements, the parameters 43"):
        nn.utils.vector_to_parameters(tg.ones(3), ours.parameters())
