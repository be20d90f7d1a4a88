"""tensorgrad.nn: Module registration, modes, dtype, state dicts, repr, initialisation, and
every layer against PyTorch in float64 with copied weights (forward, input and parameter
gradients, buffers), in training and evaluation mode."""
import copy
import math

import numpy as np
import pytest

import tensorgrad as tg
from helpers import tg64
from tensorgrad import nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def to_torch(module: nn.Module, theirs):
    """Copy module's parameters and buffers into the torch module `theirs` (float64)."""
    theirs.double().load_state_dict({k: torch.tensor(np.array(v)) for k, v in
                                     module.state_dict().items()})
    return theirs


def assert_same_state(ours: nn.Module, theirs, rtol=1e-10):
    expected = theirs.state_dict()
    got = ours.state_dict()
    assert list(got) == list(expected)
    for name, value in got.items():
        np.testing.assert_allclose(value, expected[name].numpy(), rtol=rtol, atol=1e-12,
                                   err_msg=name)


def check_against_torch(ours, theirs, shape, training=True, steps=1, seed=0, rtol=1e-10):
    """Run both modules (float64, same weights) `steps` times on the same random inputs and
    upstream gradients; compare outputs, input gradients, accumulated parameter gradients
    and buffers."""
    rng = np.random.default_rng(seed)
    ours.to("float64").train(training)
    to_torch(ours, theirs).train(training)
    for _ in range(steps):
        x = rng.standard_normal(shape) * 2 + 0.5
        a, b = tg64(x), torch.tensor(x, requires_grad=True)
        out_a, out_b = ours(a), theirs(b)
        np.testing.assert_allclose(out_a.data, out_b.detach().numpy(), rtol=rtol, atol=1e-12)
        upstream = rng.standard_normal(out_b.shape)
        out_a.backward(upstream)
        out_b.backward(torch.tensor(upstream))
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=rtol, atol=1e-12)
    their_grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, their_grads[name].grad.numpy(), rtol=rtol,
                                   atol=1e-12, err_msg=name)
    assert_same_state(ours, theirs)


# (ours, theirs, input shape)
LAYERS = {
    "linear": (lambda: nn.Linear(5, 3), lambda: tnn.Linear(5, 3), (4, 5)),
    "linear_3d_no_bias": (lambda: nn.Linear(5, 3, bias=False),
                          lambda: tnn.Linear(5, 3, bias=False), (2, 4, 5)),
    "conv": (lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 2)),
             lambda: tnn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 2)), (2, 3, 7, 6)),
    "conv_groups_dilation": (lambda: nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2,
                                               bias=False),
                             lambda: tnn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2,
                                                bias=False), (2, 4, 8, 7)),
    "max_pool": (lambda: nn.MaxPool2d(2), lambda: tnn.MaxPool2d(2), (2, 3, 6, 8)),
    "max_pool_overlap": (lambda: nn.MaxPool2d((3, 2), stride=(2, 1), padding=1),
                         lambda: tnn.MaxPool2d((3, 2), stride=(2, 1), padding=1), (2, 2, 7, 5)),
    "avg_pool": (lambda: nn.AvgPool2d(3, stride=2, padding=1),
                 lambda: tnn.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 5)),
    "adaptive_avg_pool": (lambda: nn.AdaptiveAvgPool2d((2, 3)),
                          lambda: tnn.AdaptiveAvgPool2d((2, 3)), (2, 3, 5, 7)),
    "global_avg_pool": (lambda: nn.AdaptiveAvgPool2d(1), lambda: tnn.AdaptiveAvgPool2d(1),
                        (2, 3, 5, 7)),
    "relu": (nn.ReLU, tnn.ReLU, (3, 4)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), lambda: tnn.LeakyReLU(0.2), (3, 4)),
    "sigmoid": (nn.Sigmoid, tnn.Sigmoid, (3, 4)),
    "tanh": (nn.Tanh, tnn.Tanh, (3, 4)),
    "flatten": (nn.Flatten, tnn.Flatten, (2, 3, 4, 5)),
    "flatten_range": (lambda: nn.Flatten(0, 1), lambda: tnn.Flatten(0, 1), (2, 3, 4)),
    "identity": (nn.Identity, tnn.Identity, (2, 3)),
    "sequential": (lambda: nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)),
                   lambda: tnn.Sequential(tnn.Linear(4, 6), tnn.Tanh(), tnn.Linear(6, 2)), (3, 4)),
}


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_torch(name, training):
    ours, theirs, shape = LAYERS[name]
    check_against_torch(ours(), theirs(), shape, training)


BATCHNORMS = {
    "bn1d_2d_input": (lambda **kw: nn.BatchNorm1d(3, **kw), lambda **kw: tnn.BatchNorm1d(3, **kw),
                      (6, 3)),
    "bn1d_3d_input": (lambda **kw: nn.BatchNorm1d(3, **kw), lambda **kw: tnn.BatchNorm1d(3, **kw),
                      (4, 3, 5)),
    "bn2d": (lambda **kw: nn.BatchNorm2d(3, **kw), lambda **kw: tnn.BatchNorm2d(3, **kw),
             (4, 3, 5, 6)),
}
BN_OPTIONS = [dict(), dict(momentum=0.3, eps=1e-3), dict(momentum=None), dict(affine=False),
              dict(track_running_stats=False)]


@pytest.mark.parametrize("options", BN_OPTIONS, ids=str)
@pytest.mark.parametrize("name", sorted(BATCHNORMS))
def test_batchnorm_running_statistics_over_steps_then_eval_match_torch(name, options):
    ours_factory, theirs_factory, shape = BATCHNORMS[name]
    ours, theirs = ours_factory(**options), theirs_factory(**options)
    with torch.no_grad():  # non-trivial affine parameters
        for p in theirs.parameters():
            p.uniform_(0.5, 1.5)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    check_against_torch(ours, theirs, shape, training=True, steps=3)
    if ours.track_running_stats:
        assert ours.num_batches_tracked.data == 3 and ours.num_batches_tracked.dtype == np.int64
    check_against_torch(ours, theirs, shape, training=False, steps=2, seed=1)


def test_batchnorm_input_rank_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of shape \(N, C, H, W\), "
                                         r"got shape \(4, 3\)"):
        nn.BatchNorm2d(3)(tg.randn(4, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected input of shape \(N, C\) or "
                                         r"\(N, C, L\), got shape \(2, 3, 4, 5\)"):
        nn.BatchNorm1d(3)(tg.randn(2, 3, 4, 5))


def test_dropout_layer_follows_training_mode():
    layer = nn.Dropout(0.5)
    x = tg.ones(50, 40)
    tg.manual_seed(0)
    dropped = layer(x).data
    assert 0.4 < (dropped == 0).mean() < 0.6 and set(np.unique(dropped)) == {0.0, 2.0}
    assert layer.eval()(x) is x
    with pytest.raises(ValueError, match=r"Dropout: probability p must be in \[0, 1\], got -0.1"):
        nn.Dropout(-0.1)


@pytest.mark.parametrize("ours, theirs, target", [
    (nn.CrossEntropyLoss(label_smoothing=0.1), tnn.CrossEntropyLoss(label_smoothing=0.1),
     np.array([0, 2, 1])),
    (nn.NLLLoss(reduction="sum"), tnn.NLLLoss(reduction="sum"), np.array([0, 2, 1])),
    (nn.MSELoss(), tnn.MSELoss(), np.arange(12.0).reshape(3, 4) / 10),
    (nn.BCEWithLogitsLoss(reduction="none"), tnn.BCEWithLogitsLoss(reduction="none"),
     np.linspace(0, 1, 12).reshape(3, 4)),
])
def test_loss_modules_match_torch(ours, theirs, target):
    x = np.random.default_rng(1).standard_normal((3, 4))
    a, b = tg64(x), torch.tensor(x, requires_grad=True)
    out_a, out_b = ours(a, target), theirs(b, torch.tensor(target))
    np.testing.assert_allclose(out_a.data, out_b.detach().numpy(), rtol=1e-12)
    out_a.sum().backward()
    out_b.sum().backward()
    np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------- Module


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.bn = nn.BatchNorm2d(3)
        self.scale = nn.Parameter(tg.ones(1))
        self.register_buffer("steps", tg.zeros(1))
        self.register_buffer("cache", tg.zeros(2), persistent=False)
        self.heads = nn.ModuleList([nn.Linear(3, 2), nn.Linear(3, 4)])
        self.note = "not registered"

    def forward(self, x):
        h = self.bn(self.conv(x)).relu().mean(axis=(2, 3)) * self.scale
        return [head(h) for head in self.heads]


class TorchBlock(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv = tnn.Conv2d(2, 3, 3)
        self.bn = tnn.BatchNorm2d(3)
        self.scale = tnn.Parameter(torch.ones(1))
        self.register_buffer("steps", torch.zeros(1))
        self.register_buffer("cache", torch.zeros(2), persistent=False)
        self.heads = tnn.ModuleList([tnn.Linear(3, 2), tnn.Linear(3, 4)])


def test_named_parameters_buffers_modules_and_state_dict_follow_torch():
    ours, theirs = Block(), TorchBlock()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [type(m).__name__ for m in ours.children()] == ["Conv2d", "BatchNorm2d", "ModuleList"]
    assert len(list(ours.modules())) == 6
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours.parameters())
    assert ours.note == "not registered" and "note" not in dict(ours.named_parameters())


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(net.modules())) == 3


def test_reassigning_and_deleting_attributes_updates_the_registries():
    block = Block()
    block.scale = nn.Parameter(tg.zeros(3))
    assert dict(block.named_parameters())["scale"].shape == (3,)
    block.steps = tg.ones(1)  # a buffer stays a buffer
    assert block.state_dict()["steps"][0] == 1
    block.scale = None  # a parameter slot can be emptied
    assert "scale" not in dict(block.named_parameters()) and block.scale is None
    del block.heads
    assert not any(n.startswith("heads") for n, _ in block.named_parameters())
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'heads'"):
        block.heads


def test_registration_errors():
    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"Early: call super\(\).__init__\(\) before "):
        Early()
    linear = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor to parameter 'weight' of Linear: "
                                        "use nn.Parameter or None"):
        linear.weight = tg.zeros(2, 2)
    with pytest.raises(TypeError, match="buffer 'b' must be a Tensor, an ndarray or None, got "
                                        "list"):
        linear.register_buffer("b", [1, 2])
    with pytest.raises(TypeError, match="register_parameter: 'p' must be an nn.Parameter or None"):
        linear.register_parameter("p", tg.zeros(2))
    with pytest.raises(ValueError, match="add_module: invalid module name 'a.b'"):
        linear.add_module("a.b", nn.ReLU())
    with pytest.raises(TypeError, match="cannot assign int to submodule 'fc'"):
        seq = nn.Sequential(nn.ReLU())
        seq.add_module("fc", nn.ReLU())
        seq.fc = 3
    with pytest.raises(NotImplementedError, match="Module has no forward method"):
        nn.Module()(tg.zeros(1))


def test_parameter():
    p = nn.Parameter(np.zeros((2, 3)))
    assert p.requires_grad and p.is_leaf and p.dtype == np.float64  # an ndarray keeps its dtype
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    t = tg.ones(2)
    assert nn.Parameter(t).data is t.data
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert repr(nn.Parameter(tg.zeros(2))).startswith("Parameter containing:\ntensor([0., 0.]")


def test_train_eval_zero_grad_requires_grad_and_apply():
    block = Block()
    assert block.training and block.heads[0].training
    assert block.eval() is block
    assert not any(m.training for m in block.modules())
    block.train()
    assert all(m.training for m in block.modules())
    out = block(tg.randn(2, 2, 5, 6))
    (out[0].sum() + out[1].sum()).backward()
    assert all(p.grad is not None for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())
    block.requires_grad_(False)
    assert not any(p.requires_grad for p in block.parameters())
    seen = []
    block.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Block" and seen.count("Linear") == 2


def test_deepcopy_gives_an_independent_module():
    block = Block()
    twin = copy.deepcopy(block)
    assert isinstance(twin.scale, nn.Parameter) and twin.scale.data is not block.scale.data
    assert list(twin.state_dict()) == list(block.state_dict())
    twin.conv.weight.data[...] = 0
    assert block.conv.weight.data.any()


def test_to_casts_float_parameters_buffers_and_grads():
    block = Block()
    block.scale.grad = tg.ones(1)
    assert block.to("float64") is block
    assert all(p.dtype == np.float64 for p in block.parameters())
    assert block.bn.running_var.dtype == block.steps.dtype == block.scale.grad.dtype == np.float64
    assert block.bn.num_batches_tracked.dtype == np.int64
    assert block.float().conv.weight.dtype == np.float32
    assert block.double().heads[1].bias.dtype == np.float64
    with pytest.raises(TypeError, match="Module.to: expected a floating dtype, got int32"):
        block.to("int32")


def test_state_dict_shares_memory_and_load_copies_values_keeping_dtype():
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    sd = net.state_dict()
    assert sd["0.weight"] is net[0].weight.data
    weight_array = net[0].weight.data
    new = {k: np.full(v.shape, 0.5, dtype=np.float64) for k, v in sd.items()}
    new["1.num_batches_tracked"] = np.array(7)
    result = net.load_state_dict(new)
    assert result == ([], [])
    assert net[0].weight.data is weight_array and weight_array.dtype == np.float32
    np.testing.assert_array_equal(net[0].weight.data, 0.5)
    assert net[1].num_batches_tracked.data == 7
    new["0.bias"][:] = 9  # the module holds a copy
    assert net[0].bias.data[0] == 0.5
    net.load_state_dict({k: tg.tensor(v) for k, v in new.items()})  # Tensors are accepted
    assert net[0].bias.data[0] == 9


def test_strict_load_names_every_problem_in_one_error():
    net = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    sd = {k: v.copy() for k, v in net.state_dict().items()}
    del sd["1.bias"], sd["0.bias"]
    sd["2.weight"] = np.zeros(1)
    sd["0.weight"] = np.zeros((2, 4))
    before = net[1].weight.data.copy()
    sd["1.weight"] = before + 1
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    message = str(info.value)
    assert "missing keys: 0.bias, 1.bias" in message
    assert "unexpected keys: 2.weight" in message
    assert "size mismatch for 0.weight: checkpoint shape (2, 4), model shape (2, 3)" in message
    np.testing.assert_array_equal(net[1].weight.data, before)  # nothing was loaded
    del sd["0.weight"]
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["0.weight", "0.bias", "1.bias"] and unexpected == ["2.weight"]
    np.testing.assert_array_equal(net[1].weight.data, before + 1)
    sd["0.weight"] = np.zeros((2, 4))
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        net.load_state_dict(sd, strict=False)


def test_torch_state_dict_loads_and_ours_loads_into_torch():
    theirs = TorchBlock()
    ours = Block()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for name, p in ours.named_parameters():
        np.testing.assert_array_equal(p.data, theirs.state_dict()[name].numpy())
    to_torch(Block(), TorchBlock())


def test_repr_matches_torch_for_shared_layer_types():
    ours = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(2, 4, 3, padding="same",
                                                                  groups=2, bias=False),
                         nn.Linear(3, 4, bias=False), nn.ReLU(),
                         nn.Sequential(nn.Tanh(), nn.Identity()))
    theirs = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.Conv2d(2, 4, 3, padding="same",
                                                                       groups=2, bias=False),
                            tnn.Linear(3, 4, bias=False), tnn.ReLU(),
                            tnn.Sequential(tnn.Tanh(), tnn.Identity()))
    assert repr(ours) == repr(theirs)
    assert repr(nn.BatchNorm2d(6)) == ("BatchNorm2d(6, eps=1e-05, momentum=0.1, affine=True, "
                                       "track_running_stats=True)")
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25)"
    assert repr(nn.AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)"


def test_sequential_and_module_list_containers():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]
    named = nn.Sequential({"fc": a, "act": b})
    assert named.fc is a and [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and seq(tg.randn(5, 2)).shape == (5, 1)
    with pytest.raises(IndexError, match="Sequential: index 7 out of range for 4 modules"):
        seq[7]
    heads = nn.ModuleList([a])
    heads.append(c).extend([nn.Linear(1, 1)])
    assert len(heads) == 3 and heads[1] is c
    assert list(heads[1:]._modules) == ["0", "1"]
    assert [n for n, _ in heads.named_parameters()][-1] == "2.bias"


# ---------------------------------------------------------------------------- init


@pytest.mark.parametrize("make, fan_in", [(lambda: nn.Linear(300, 200), 300),
                                          (lambda: nn.Conv2d(20, 64, (5, 3)), 300)])
def test_default_init_is_pytorch_kaiming_uniform(make, fan_in):
    tg.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= bound
    w = layer.weight.data
    assert np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    tg.manual_seed(0)
    np.testing.assert_array_equal(make().weight.data, w)  # reproducible


def test_layers_take_dtype_and_follow_the_default_dtype():
    assert nn.Linear(2, 3, dtype="float64").weight.dtype == np.float64
    assert nn.BatchNorm2d(3, dtype="float64").running_mean.dtype == np.float64
    tg.set_default_dtype("float64")
    try:
        assert nn.Conv2d(1, 2, 3).weight.dtype == np.float64
    finally:
        tg.set_default_dtype("float32")


def test_batchnorm_default_init():
    bn = nn.BatchNorm1d(4)
    np.testing.assert_array_equal(bn.weight.data, 1)
    np.testing.assert_array_equal(bn.bias.data, 0)
    np.testing.assert_array_equal(bn.running_var.data, 1)


@pytest.mark.parametrize("name, args", [("linear", ()), ("relu", ()), ("tanh", ()),
                                        ("leaky_relu", ()), ("leaky_relu", (0.2,)),
                                        ("sigmoid", ()), ("conv2d", ()), ("selu", ())])
def test_calculate_gain_matches_torch(name, args):
    assert nn.init.calculate_gain(name, *args) == pytest.approx(
        tnn.init.calculate_gain(name, *args), rel=1e-12)


@pytest.mark.parametrize("fn, kwargs, expected_std", [
    (nn.init.kaiming_uniform_, dict(nonlinearity="relu"), math.sqrt(2 / 400)),
    (nn.init.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 600)),
    (nn.init.kaiming_normal_, dict(a=0.5), math.sqrt(2 / 1.25 / 400)),
    (nn.init.xavier_uniform_, dict(gain=2.0), 2 * math.sqrt(2 / 1000)),
    (nn.init.xavier_normal_, dict(), math.sqrt(2 / 1000)),
    (nn.init.uniform_, dict(a=-3, b=1), math.sqrt(16 / 12)),
    (nn.init.normal_, dict(mean=1.0, std=0.3), 0.3),
])
def test_init_functions_have_pytorch_spreads(fn, kwargs, expected_std):
    t = tg.zeros(60, 40, 2, 5)   # fan_in = 40 * 10 = 400, fan_out = 60 * 10 = 600
    assert fn(t, **kwargs) is t
    assert t.dtype == np.float32
    assert abs(t.data.std() - expected_std) < 0.03 * expected_std


def test_constant_inits_and_fan_errors():
    t = tg.zeros(2, 3)
    np.testing.assert_array_equal(nn.init.ones_(t).data, 1)
    np.testing.assert_array_equal(nn.init.constant_(t, 2.5).data, 2.5)
    np.testing.assert_array_equal(nn.init.zeros_(t).data, 0)
    with pytest.raises(ValueError, match=r"xavier_uniform_: fan in and fan out need a tensor with "
                                         r"at least 2 dimensions, got shape \(5,\)"):
        nn.init.xavier_uniform_(tg.zeros(5))
    with pytest.raises(ValueError, match="kaiming_normal_: mode must be 'fan_in' or 'fan_out'"):
        nn.init.kaiming_normal_(t, mode="fan")
    with pytest.raises(ValueError, match="calculate_gain: unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")


# ---------------------------------------------------------------------------- clip_grad_norm_


@pytest.mark.parametrize("max_norm, norm_type", [(0.5, 2.0), (100.0, 2.0), (0.3, float("inf")),
                                                 (1.0, 1.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ours = [tg64(np.zeros_like(g)) for g in grads] + [tg64(np.zeros(2))]  # last: no grad
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for a, b, g in zip(ours, theirs, grads):
        a.grad, b.grad = tg.tensor(g, dtype="float64"), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = tnn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-12)
    assert ours[-1].grad is None
