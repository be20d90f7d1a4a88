"""tensorgrad.nn.models: shapes, parameter names and counts, PyTorch weights loading into the
same architecture with the same logits and gradients, and a short training run."""
import pathlib
import sys
from collections import OrderedDict

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.functional as F
from tensorgrad import optim
from tensorgrad.nn import models

torch = pytest.importorskip("torch")
tnn = torch.nn
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "benchmarks"))
from torch_resnets import resnet as torch_resnet  # noqa: E402  (the benchmarks' twins)


class TorchLeNet(tnn.Module):
    """LeNet-5 written the usual PyTorch way, with the attribute names lenet5 documents."""

    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = tnn.Conv2d(6, 16, 5)
        self.fc1 = tnn.Linear(400, 120)
        self.fc2 = tnn.Linear(120, 84)
        self.fc3 = tnn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2).flatten(1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def torch_block(cin, cout):
    return [tnn.Conv2d(cin, cout, 3, padding=1, bias=False), tnn.BatchNorm2d(cout), tnn.ReLU(),
            tnn.MaxPool2d(2)]


def torch_mnist_cnn():
    return tnn.Sequential(OrderedDict(
        features=tnn.Sequential(*torch_block(1, 32), *torch_block(32, 64), *torch_block(64, 64)),
        classifier=tnn.Sequential(tnn.Flatten(), tnn.Linear(576, 128), tnn.ReLU(),
                                  tnn.Dropout(0.25), tnn.Linear(128, 10))))


def torch_cifar_cnn():
    return tnn.Sequential(OrderedDict(
        features=tnn.Sequential(*torch_block(3, 32), *torch_block(32, 64), *torch_block(64, 128)),
        classifier=tnn.Sequential(tnn.Flatten(), tnn.Linear(2048, 256), tnn.ReLU(),
                                  tnn.Dropout(0.5), tnn.Linear(256, 10))))


def torch_mlp():
    return tnn.Sequential(tnn.Flatten(), tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128),
                          tnn.ReLU(), tnn.Linear(128, 10))


def load_torch_weights(ours, theirs):
    """Give theirs non-trivial BatchNorm parameters and statistics, then load it into ours."""
    with torch.no_grad():
        for m in theirs.modules():
            if isinstance(m, tnn.BatchNorm2d):
                for t, low, high in ((m.weight, 0.5, 1.5), (m.bias, -0.5, 0.5),
                                     (m.running_mean, -0.5, 0.5), (m.running_var, 0.5, 1.5)):
                    t.uniform_(low, high)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours


CASES = {
    "lenet5": (models.lenet5, TorchLeNet, (1, 28, 28)),
    "mnist_cnn": (models.mnist_cnn, torch_mnist_cnn, (1, 28, 28)),
    "cifar_cnn": (models.cifar_cnn, torch_cifar_cnn, (3, 32, 32)),
    "mlp": (models.mlp, torch_mlp, (1, 28, 28)),
    "resnet20": (models.resnet20, lambda: torch_resnet("resnet20"), (3, 32, 32)),
    "resnet18": (models.resnet18, lambda: torch_resnet("resnet18"), (3, 32, 32)),
}


@pytest.mark.parametrize("name, count", [("resnet20", 269_722), ("resnet32", 464_154),
                                         ("resnet56", 853_018), ("resnet18", 11_173_962),
                                         ("cifar_cnn", 620_586), ("mnist_cnn", 131_050)])
def test_parameter_counts_match_torch_and_the_documented_table(name, count):
    ours = getattr(models, name)()
    theirs = torch_resnet(name) if name.startswith("resnet") else CASES[name][1]()
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters()) == count
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert f"{count:,}" in models.__doc__


def test_resnet_shortcuts_and_errors():
    net = models.resnet20()
    assert [len(getattr(net, f"layer{i}")) for i in (1, 2, 3)] == [3, 3, 3]
    assert not any("shortcut" in n for n, _ in net.named_parameters())  # option A: no weights
    assert "layer2.0.shortcut.0.weight" in models.resnet18().state_dict()
    assert "shortcut='A'" in repr(net.layer2[0]) and "shortcut" not in repr(net.layer2[1])
    with pytest.raises(ValueError, match="BasicBlock: shortcut must be 'A' or 'B', got 'C'"):
        models.BasicBlock(16, 32, 2, shortcut="C")


@pytest.mark.parametrize("name", sorted(CASES))
def test_model_shapes_names_and_parameter_counts_match_torch(name):
    make, make_torch, image = CASES[name]
    ours, theirs = make(), make_torch()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.shape == tuple(q.shape) and p.dtype == np.float32, n
    out = ours(tg.randn(2, *image))
    assert out.shape == (2, 10) and out.dtype == np.float32
    assert make(num_classes=3)(tg.randn(1, *image)).shape == (1, 3)


def test_lenet5_parameter_count():
    assert sum(p.numel() for p in models.lenet5().parameters()) == 61_706


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_weights_give_the_same_logits_and_gradients(name):
    make, make_torch, image = CASES[name]
    torch.manual_seed(0)
    theirs = make_torch()
    ours = load_torch_weights(make(), theirs)
    x = np.random.default_rng(0).standard_normal((3, *image)).astype(np.float32)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(tg.tensor(x)).data, expected, rtol=1e-4, atol=1e-5)

    ours.to("float64").train()
    theirs.double().train()
    body, torch_body = (ours.features, theirs.features) if "cnn" in name else (ours, theirs)
    a, b = tg.tensor(x, dtype="float64", requires_grad=True), torch.tensor(x.astype(np.float64),
                                                                             requires_grad=True)
    out_a, out_b = body(a), torch_body(b)  # training mode: BatchNorm uses batch statistics
    np.testing.assert_allclose(out_a.data, out_b.detach().numpy(), rtol=1e-9, atol=1e-12)
    upstream = np.random.default_rng(1).standard_normal(out_b.shape)
    out_a.backward(upstream)
    out_b.backward(torch.tensor(upstream))
    np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-9, atol=1e-12)
    grads = dict(torch_body.named_parameters())
    for n, p in body.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads[n].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=n)
    for n, v in body.state_dict().items():  # running statistics after the training step
        np.testing.assert_allclose(v, torch_body.state_dict()[n].numpy(), rtol=1e-9, err_msg=n)


def test_lenet5_loads_a_pytorch_sequential_with_the_same_names():
    theirs = tnn.Sequential(OrderedDict(
        conv1=tnn.Conv2d(1, 6, 5, padding=2), relu1=tnn.ReLU(), pool1=tnn.MaxPool2d(2),
        conv2=tnn.Conv2d(6, 16, 5), relu2=tnn.ReLU(), pool2=tnn.MaxPool2d(2),
        flatten=tnn.Flatten(), fc1=tnn.Linear(400, 120), relu3=tnn.ReLU(),
        fc2=tnn.Linear(120, 84), relu4=tnn.ReLU(), fc3=tnn.Linear(84, 10)))
    ours = models.lenet5()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(ours(tg.tensor(x)).data, theirs(torch.tensor(x)).numpy(),
                                   rtol=1e-4, atol=1e-5)
    assert repr(ours).count("ReLU()") == 4


@pytest.mark.parametrize("make, n", [(models.lenet5, 32), (models.mnist_cnn, 12)])
def test_short_training_run_fits_a_separable_toy_problem(make, n):
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, n)
    images = rng.uniform(0, 1, (n, 1, 28, 28)).astype(np.float32)
    images[labels == 1, :, :, :14] += 1.0  # class 1: a brighter left half
    net = make(num_classes=2)
    opt = optim.Adam(net.parameters(), lr=3e-3)
    x = tg.tensor(images)
    for _ in range(10):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), labels)
        loss.backward()
        opt.step()
    net.eval()
    accuracy = (net(x).argmax(axis=1).data == labels).mean()
    assert accuracy == 1.0 and loss.item() < 0.3
