"""tensorgrad.optim: every optimizer option against PyTorch over 10 steps in float64, parameter
groups, zero_grad, state dicts, schedulers over 20 steps, and the validation errors."""
import numpy as np
import pytest

import tensorgrad as tg
from helpers import tg64
from tensorgrad import nn, optim
from tensorgrad.serialization import load, save

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,), (2, 1, 3)]

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, betas=(0.85, 0.99), weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.05)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3,
                     eps=1e-6)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
]


def make_pair(name, options, seed=0, groups=None):
    """Parameters (float64, same values) and optimizers for tensorgrad and torch."""
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) for s in SHAPES]
    ours = [tg64(v) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    if groups:
        ours = [{"params": [ours[i] for i in idx], **extra} for idx, extra in groups]
        theirs = [{"params": [theirs[i] for i in idx], **extra} for idx, extra in groups]
    return getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)


def all_params(opt):
    return [p for g in opt.param_groups for p in g["params"]]


def run_steps(optimizers, steps, seed=1, skip=None):
    """Give every optimizer's parameters the same random gradients (parameter `skip` gets
    none) and step them all, `steps` times."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        grads = [rng.standard_normal(p.shape) for p in all_params(optimizers[0])]
        for opt in optimizers:
            ours = isinstance(opt, optim.Optimizer)
            for i, (p, g) in enumerate(zip(all_params(opt), grads)):
                p.grad = None if i == skip else tg.tensor(g, dtype="float64") if ours \
                    else torch.tensor(g)
            opt.step()


def assert_params_equal(ours, theirs, rtol=1e-10):
    for i, (a, b) in enumerate(zip(all_params(ours), all_params(theirs))):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=rtol, atol=1e-13,
                                   err_msg=f"parameter {i}")


@pytest.mark.parametrize("name, options", OPTIMIZERS, ids=[f"{n}-{o}" for n, o in OPTIMIZERS])
def test_optimizer_matches_torch_over_10_steps(name, options):
    ours, theirs = make_pair(name, options)
    start = [p.data.copy() for p in all_params(ours)]
    arrays = [p.data for p in all_params(ours)]
    run_steps([ours, theirs], 10, skip=2)
    assert_params_equal(ours, theirs)
    assert not np.allclose(all_params(ours)[0].data, start[0])
    np.testing.assert_array_equal(all_params(ours)[2].data, start[2])  # no grad: untouched
    assert all(p.data is a for p, a in zip(all_params(ours), arrays))  # updated in place


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_parameter_groups_with_their_own_options_match_torch(name):
    extra = {"SGD": dict(momentum=0.5), "Adam": dict(betas=(0.5, 0.9)),
             "RMSprop": dict(centered=True)}[name]
    groups = [((0, 2), dict(lr=0.2, weight_decay=0.1, **extra)), ((1,), dict())]
    ours, theirs = make_pair(name, dict(lr=0.01), groups=groups)
    assert ours.param_groups[1]["lr"] == 0.01 and ours.param_groups[0]["lr"] == 0.2
    run_steps([ours, theirs], 10)
    assert_params_equal(ours, theirs)


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.1, momentum=0.9)),
                                           ("Adam", dict(lr=0.1, amsgrad=True)),
                                           ("RMSprop", dict(momentum=0.5, centered=True))])
def test_float32_parameters_and_state_stay_float32(name, options):
    p = nn.Parameter(tg.randn(3, 2))
    opt = getattr(optim, name)([p], **options)
    for _ in range(2):
        p.grad = tg.randn(3, 2)
        opt.step()
    assert p.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))


def test_training_a_model_reduces_the_loss():
    tg.manual_seed(0)
    x = tg.randn(64, 3)
    y = x @ tg.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    net = nn.Linear(3, 1)
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = tg.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]


def test_zero_grad_and_closure():
    p = nn.Parameter(tg.ones(2))
    opt = optim.SGD([p], lr=0.5)
    p.grad = tg.ones(2)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, 0)
    opt.zero_grad()
    assert p.grad is None

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with tg.no_grad():
        assert opt.step(closure).item() == 2.0  # the closure records even under no_grad
    np.testing.assert_array_equal(p.data, 0.0)


def test_optimizer_validation_errors():
    p = nn.Parameter(tg.ones(2))
    with pytest.raises(ValueError, match=r"SGD: parameter 1 of group 0 \(shape \(3,\)\) does not "
                                         "require grad"):
        optim.SGD([p, tg.ones(3)], lr=0.1)
    with pytest.raises(ValueError, match="Adam: parameter 0 of group 0 .* is not a leaf tensor"):
        optim.Adam([p * 2])
    with pytest.raises(ValueError, match="appears more than once"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 of group 0 is a ndarray, not a Tensor"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="params must be an iterable of Tensors or of dicts, got a "
                                        "single Parameter"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="RMSprop: got an empty parameter list"):
        optim.RMSprop([])
    with pytest.raises(ValueError, match="SGD: invalid lr -1"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="SGD: nesterov momentum needs momentum > 0 and "
                                         "dampening = 0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"Adam: invalid betas \(0.9, 1.0\)"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match=r"AdamW: invalid eps -1e-08"):
        optim.AdamW([p], eps=-1e-8)
    with pytest.raises(ValueError, match=r"SGD: unknown options \['learning_rate'\]"):
        optim.SGD([{"params": [p], "learning_rate": 0.1}], lr=0.1)


# ---------------------------------------------------------------------------- state dicts


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                           ("Adam", dict(lr=0.05, amsgrad=True)),
                                           ("AdamW", dict(lr=0.05)),
                                           ("RMSprop", dict(momentum=0.5, centered=True))])
def test_state_dict_round_trip_through_a_file_resumes_exactly(name, options, tmp_path):
    ours, theirs = make_pair(name, options)
    run_steps([ours, theirs], 5)
    saved = ours.state_dict()
    assert sorted(saved["state"]) == [0, 1, 2]
    assert saved["param_groups"][0]["params"] == [0, 1, 2]
    assert set(saved["state"][0]) == set(theirs.state_dict()["state"][0])
    save(saved, tmp_path / "opt.npz")
    params = [tg64(p.data.copy()) for p in all_params(ours)]
    resumed = getattr(optim, name)(params, lr=123.0)
    resumed.load_state_dict(load(tmp_path / "opt.npz"))
    assert resumed.param_groups[0]["lr"] == ours.param_groups[0]["lr"]
    run_steps([ours, theirs, resumed], 5, seed=2)
    assert_params_equal(ours, theirs)
    for a, b in zip(all_params(resumed), all_params(ours)):
        np.testing.assert_array_equal(a.data, b.data)


def test_load_state_dict_copies_and_casts_state():
    p = nn.Parameter(tg.ones(2))
    opt = optim.Adam([p])
    sd = {"state": {0: {"step": 3, "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)}},
          "param_groups": [{**opt.defaults, "params": [0]}]}
    opt.load_state_dict(sd)
    assert opt.state[p]["exp_avg"].dtype == np.float32 and opt.state[p]["step"] == 3
    sd["state"][0]["exp_avg"][:] = 5
    assert opt.state[p]["exp_avg"][0] == 1


def test_load_state_dict_errors():
    a, b = nn.Parameter(tg.ones(2)), nn.Parameter(tg.ones(3))
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    good = {"state": {1: {"momentum_buffer": np.zeros(3)}},
            "param_groups": [{**opt.defaults, "params": [0, 1]}]}
    with pytest.raises(ValueError, match="the state has 2 parameter groups, this optimizer has 1"):
        opt.load_state_dict({**good, "param_groups": good["param_groups"] * 2})
    with pytest.raises(ValueError, match="parameter group 0 has 1 parameters in the state, 2 in "
                                         "this optimizer"):
        opt.load_state_dict({**good, "param_groups": [{**opt.defaults, "params": [0]}]})
    with pytest.raises(ValueError, match=r"state 'momentum_buffer' of parameter 0 has shape "
                                         r"\(3,\), the parameter has shape \(2,\)"):
        opt.load_state_dict({**good, "state": {0: {"momentum_buffer": np.zeros(3)}}})
    with pytest.raises(ValueError, match="state for parameter 4, which no parameter group lists"):
        opt.load_state_dict({**good, "state": {4: {}}})
    opt.load_state_dict(good)


# ---------------------------------------------------------------------------- schedulers

SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5), "SGD", dict(lr=0.1)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01), "SGD", dict(lr=0.1)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=20), "SGD", dict(lr=0.1, momentum=0.9)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], total_steps=21, anneal_strategy="linear",
                        pct_start=0.4, base_momentum=0.7), "Adam", dict(lr=0.1)),
    ("OneCycleLR", dict(max_lr=0.3, epochs=4, steps_per_epoch=5, three_phase=True,
                        div_factor=10, final_div_factor=100), "SGD", dict(lr=0.1, momentum=0.8)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=20, cycle_momentum=False), "RMSprop", dict()),
    ("MultiStepLR", dict(milestones=[9, 3, 3, 14], gamma=0.5), "SGD", dict(lr=0.1)),
    ("ExponentialLR", dict(gamma=0.8), "Adam", dict(lr=0.1)),
    ("LambdaLR", dict(lr_lambda=lambda step: 1 / (1 + step) ** 0.5), "SGD", dict(lr=0.1)),
    ("LambdaLR", dict(lr_lambda=[lambda step: 0.9 ** step, lambda step: step % 3 + 1]),
     "Adagrad", dict(lr=0.1)),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=7), "SGD", dict(lr=0.1)),
    ("LinearLR", dict(), "Adadelta", dict()),
]


@pytest.mark.parametrize("name, options, opt_name, opt_options", SCHEDULERS,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULERS)])
def test_scheduler_matches_torch_over_20_steps(name, options, opt_name, opt_options):
    groups = [((0,), dict()), ((1, 2), dict(lr=0.05))]
    ours, theirs = make_pair(opt_name, opt_options, groups=groups)
    ours_s = getattr(optim.lr_scheduler, name)(ours, **options)
    theirs_s = getattr(torch.optim.lr_scheduler, name)(theirs, **options)
    momentum_keys = ("momentum", "betas")
    for step in range(20):
        np.testing.assert_allclose(ours_s.get_last_lr(), theirs_s.get_last_lr(), rtol=1e-12,
                                   atol=1e-15, err_msg=f"step {step}")
        for ga, gb in zip(ours.param_groups, theirs.param_groups):
            for key in momentum_keys:
                if key in ga:
                    np.testing.assert_allclose(ga[key], gb[key], rtol=1e-12)
        run_steps([ours, theirs], 1, seed=step)
        ours_s.step()
        theirs_s.step()
    assert_params_equal(ours, theirs)


def test_sequential_lr_matches_torch_over_20_steps():
    groups = [((0,), dict()), ((1, 2), dict(lr=0.05))]
    pairs = make_pair("SGD", dict(lr=0.1, momentum=0.9), groups=groups)
    schedulers = []
    for opt, lib in zip(pairs, (optim.lr_scheduler, torch.optim.lr_scheduler)):
        warmup = lib.LinearLR(opt, start_factor=0.1, total_iters=4)
        decay = lib.StepLR(opt, step_size=3, gamma=0.5)
        cosine = lib.CosineAnnealingLR(opt, T_max=6)
        schedulers.append(lib.SequentialLR(opt, [warmup, decay, cosine], milestones=[5, 11]))
    for step in range(20):
        np.testing.assert_allclose(schedulers[0].get_last_lr(), schedulers[1].get_last_lr(),
                                   rtol=1e-12, atol=1e-15, err_msg=f"step {step}")
        run_steps(list(pairs), 1, seed=step)
        for s in schedulers:
            s.step()
    assert_params_equal(*pairs)


@pytest.mark.parametrize("options", [dict(patience=1), dict(mode="max", factor=0.5, patience=2,
                                                  threshold=0.1, threshold_mode="abs",
                                                  cooldown=2, min_lr=[0.02, 0.01], eps=1e-3)])
def test_reduce_lr_on_plateau_matches_torch_over_30_epochs(options):
    groups = [((0,), dict()), ((1, 2), dict(lr=0.05))]
    ours, theirs = make_pair("SGD", dict(lr=0.1), groups=groups)
    ours_s = optim.ReduceLROnPlateau(ours, **options)
    theirs_s = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **options)
    metrics = np.random.default_rng(0).permutation(np.repeat(np.linspace(1, 2, 10), 3))
    for epoch, metric in enumerate(metrics):
        ours_s.step(metric)
        theirs_s.step(metric)
        assert ours_s.get_last_lr() == pytest.approx(theirs_s.get_last_lr(), rel=1e-12), epoch
    assert ours_s.get_last_lr() != [0.1, 0.05], "the schedule never reduced: a vacuous test"


def test_scheduler_state_dict_round_trip(tmp_path):
    opt = optim.SGD([nn.Parameter(tg.ones(1))], lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    for _ in range(4):
        sched.step()
    save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.npz")
    expected = [sched.step() or sched.get_last_lr() for _ in range(3)]
    ckpt = load(tmp_path / "s.npz")
    opt2 = optim.SGD([nn.Parameter(tg.ones(1))], lr=0.1, momentum=0.9)
    opt2.load_state_dict(ckpt["opt"])
    sched2 = optim.lr_scheduler.OneCycleLR(opt2, max_lr=1.0, total_steps=10)
    sched2.load_state_dict(ckpt["sched"])
    assert [sched2.step() or sched2.get_last_lr() for _ in range(3)] == expected


class PlainSGD(optim.Optimizer):
    """A user-defined optimizer without momentum."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    def _update(self, param, grad, state, group):
        param.data -= group["lr"] * grad


def test_user_defined_optimizer_works_with_schedulers():
    p = nn.Parameter(tg.ones(2))
    opt = PlainSGD([p], lr=1.0)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = tg.ones(2)
        opt.step()
        sched.step()
    np.testing.assert_array_equal(p.data, 1 - 1.75)
    assert sched.get_last_lr() == [0.125]


def test_scheduler_errors():
    opt = optim.SGD([nn.Parameter(tg.ones(1))], lr=0.1)
    with pytest.raises(TypeError, match="StepLR: list is not an Optimizer"):
        optim.StepLR([], 3)
    with pytest.raises(ValueError, match="StepLR: step_size must be positive, got 0"):
        optim.StepLR(opt, 0)
    with pytest.raises(ValueError, match="CosineAnnealingLR: T_max must be positive"):
        optim.CosineAnnealingLR(opt, 0)
    with pytest.raises(ValueError, match="OneCycleLR: give total_steps, or positive epochs"):
        optim.OneCycleLR(opt, 1.0)
    with pytest.raises(ValueError, match="anneal_strategy must be 'cos' or 'linear'"):
        optim.OneCycleLR(opt, 1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum or "
                                         "betas"):
        optim.OneCycleLR(PlainSGD([nn.Parameter(tg.ones(1))]), 1.0, total_steps=5)
    with pytest.raises(ValueError, match="expected 1 values for max_lr, got 2"):
        optim.OneCycleLR(opt, [1.0, 2.0], total_steps=5)
    with pytest.raises(KeyError, match="has no 'initial_lr'"):
        optim.StepLR(optim.SGD([nn.Parameter(tg.ones(1))], lr=0.1), 2, last_epoch=3)
    sched = optim.OneCycleLR(opt, 1.0, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 3 times; total_steps is 2"):
        sched.step()


def test_new_scheduler_and_optimizer_errors():
    opt = optim.SGD([nn.Parameter(tg.ones(1))], lr=0.1)
    with pytest.raises(ValueError, match="LinearLR: start_factor must be in"):
        optim.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="MultiStepLR: milestones must be non-negative integers"):
        optim.MultiStepLR(opt, [2.5])
    with pytest.raises(TypeError, match="LambdaLR: lr_lambda must be a function"):
        optim.LambdaLR(opt, 0.5)
    with pytest.raises(ValueError, match="SequentialLR: expected 1 milestones for 2 schedulers"):
        optim.SequentialLR(opt, [optim.StepLR(opt, 2), optim.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="ReduceLROnPlateau: factor must be in"):
        optim.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau.step: the metric is NaN"):
        optim.ReduceLROnPlateau(opt).step(float("nan"))
    with pytest.raises(ValueError, match="Adagrad: invalid lr_decay -1"):
        optim.Adagrad([nn.Parameter(tg.ones(1))], lr_decay=-1)
    with pytest.raises(ValueError, match="Adadelta: invalid rho 1.5"):
        optim.Adadelta([nn.Parameter(tg.ones(1))], rho=1.5)


def test_parameter_group_options_are_checked():
    p = nn.Parameter(tg.ones(2))
    with pytest.raises(TypeError, match="SGD: parameter group 0 must be a dict with a 'params' "
                                        "entry"):
        optim.SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(TypeError, match="SGD: option 'lr' of parameter group 0 must be a number, "
                                        "got '0.1'"):
        optim.SGD([{"params": [p], "lr": "0.1"}], lr=0.1)
    with pytest.raises(ValueError, match="option 'lr' of parameter group 0 must not be negative"):
        optim.SGD([{"params": [p], "lr": -0.5}], lr=0.1)
    with pytest.raises(TypeError, match="Adam: option 'betas' of parameter group 0 must be a "
                                        "tuple of 2 numbers"):
        optim.Adam([{"params": [p], "betas": 0.9}])
    with pytest.raises(TypeError, match="SGD: option 'nesterov' of parameter group 0 must be True "
                                        "or False"):
        optim.SGD([{"params": [p], "nesterov": "yes"}], lr=0.1)


def test_load_state_dict_from_another_optimizer_class_is_refused():
    p = nn.Parameter(tg.ones(2))
    adam = optim.Adam([p])
    p.grad = tg.ones(2)
    adam.step()
    sgd = optim.SGD([p], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: parameter group 0 of the state has "
                                         r"no \['dampening', 'momentum', 'nesterov'\]: it was saved "
                                         "by another optimizer class"):
        sgd.load_state_dict(adam.state_dict())
    sgd.step()  # still usable: nothing was changed
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        sgd.load_state_dict({"params": [p]})
    bad = sgd.state_dict()
    bad["param_groups"][0]["lr"] = float("nan")
    with pytest.raises(TypeError, match="SGD.load_state_dict: option 'lr' of parameter group 0 "
                                        "must be a number, got nan"):
        sgd.load_state_dict(bad)


@pytest.mark.parametrize("key, value, message", [
    ("step_size", 0, "StepLR.load_state_dict: StepLR: step_size must be positive, got 0"),
    ("gamma", float("nan"), "StepLR.load_state_dict: 'gamma' must be a number, got nan"),
    ("last_epoch", 2.5, "StepLR.load_state_dict: 'last_epoch' must be an integer, got 2.5"),
    ("base_lrs", [0.1, 0.2], r"StepLR.load_state_dict: 'base_lrs' must be a list of 1 values"),
    ("base_lrs", ["0.1"], r"StepLR.load_state_dict: 'base_lrs\[0\]' must be a number"),
])
def test_scheduler_load_state_dict_refuses_bad_values_and_changes_nothing(key, value, message):
    opt = optim.SGD([nn.Parameter(tg.ones(1))], lr=0.1)
    sched = optim.StepLR(opt, step_size=2)
    before = sched.state_dict()
    with pytest.raises(ValueError, match=message):
        sched.load_state_dict({**before, key: value})
    assert sched.state_dict() == before
    with pytest.raises(ValueError, match=r"StepLR.load_state_dict: expected the keys .*: not a "
                                         "StepLR state"):
        sched.load_state_dict(optim.ExponentialLR(opt, 0.5).state_dict())
