"""Count how many of issue 15's everyday PyTorch tensor calls work in tensorgrad.

Each call below is written the PyTorch way, with `torch` bound to tensorgrad. A call works
when it runs and, where PyTorch is installed, its result equals PyTorch's (tensors, numbers,
tuples of them, strings and booleans are compared). Not collected by pytest (the name does not
start with test_); run it with

    PYTHONPATH=. python tests/torch_api_probe.py [-v]

It prints "<working>/<total>" and, with -v, each call that fails and why.
"""
from __future__ import annotations

import sys

import numpy as np

# set-up run before every call, in both libraries
SETUP = """
x = torch.tensor([[1.5, -2.0, 3.25], [0.5, 4.0, -1.0]])
v = torch.tensor([3.0, 1.0, 2.0, 5.0])
i = torch.tensor([[0, 2], [1, 0]])
s = torch.tensor(2.5)
m = torch.tensor([[True, False, True], [False, True, False]])
"""

CALLS = [
    # dim= / keepdim= and the PyTorch argument names
    "x.sum(dim=1)", "x.sum(dim=1, keepdim=True)", "x.sum(1)", "x.mean(dim=0)",
    "x.mean(dim=(0, 1), keepdim=True)", "x.max(dim=1).values", "x.max(dim=1).indices",
    "x.min(dim=0).values", "x.min(1)[1]", "x.max()", "x.argmax(dim=1)", "x.argmin(dim=1, keepdim=True)",
    "x.softmax(dim=1)", "x.log_softmax(dim=-1)", "x.logsumexp(dim=1)",
    "torch.cat([x, x], dim=1)", "torch.stack([x, x], dim=0)", "x.unsqueeze(dim=0).shape",
    "x.unsqueeze(0).squeeze(dim=0).shape", "x.flatten(start_dim=0)", "x.reshape(1, 2, 3).flatten(start_dim=1, end_dim=2)",
    "x.var(dim=1)", "x.var(dim=1, unbiased=False)", "x.std(dim=0, correction=0)", "x.var()",
    "m.any(dim=1)", "m.all(dim=0)",
    # creation
    "torch.zeros(2, 3)", "torch.zeros((2, 3))", "torch.zeros(size=(2, 3))", "torch.ones(2, 3, dtype=torch.float64)",
    "torch.zeros(2, device='cpu')", "torch.ones(3, requires_grad=True).requires_grad",
    "torch.full((2, 2), 7.0)", "torch.arange(5)", "torch.arange(0, 1, 0.25)", "torch.linspace(0, 1, 5)",
    "torch.eye(3)", "torch.zeros_like(x)", "torch.ones_like(x, dtype=torch.float64)",
    "torch.randn(2, 3).shape", "torch.rand(size=(4,)).shape", "torch.randint(0, 10, (3,)).shape",
    "torch.randperm(5).sort().values", "torch.empty(2, 3).shape",
    "torch.tensor(np.ones(3)).dtype", "torch.tensor([1.0]).dtype", "torch.tensor([1, 2]).dtype",
    "torch.tensor([1.0], dtype=torch.float64).dtype", "torch.from_numpy(np.ones(2)).dtype",
    # named tuples
    "x.sort(dim=1).values", "x.sort(dim=1, descending=True).indices", "v.topk(2).values",
    "v.topk(2, largest=False).indices", "v.median()", "x.median(dim=1).values", "torch.max(x, 1).indices",
    # Tensor methods
    "x.size()", "x.size(1)", "x.dim()", "x.numel()", "x.eq(x)", "x.ne(0)", "x.lt(1)", "x.le(1)",
    "x.gt(1)", "x.ge(1)", "x.view(3, 2)", "x.view(-1)", "x.view_as(torch.zeros(3, 2))",
    "x.reshape_as(torch.zeros(6))", "s.expand_as(x)", "x.type()", "x.long()", "x.int()",
    "x.bool()", "x.half()", "x.float()", "x.double()", "x.t()", "x.repeat(2, 1)", "x.chunk(3, dim=1)[0]",
    "v.split(2)[1]", "x.split([1, 2], dim=1)[1]", "x.gather(1, i)", "x.scatter(1, i, torch.ones(2, 2))",
    "x.scatter_add(1, i, torch.ones(2, 2))", "x.masked_fill(m, 0.0)", "x.clamp(-1, 1)", "x.clamp(min=0)",
    "x.clamp_min(0)", "x.clamp_max(0)", "x.pow(2)", "x.sin()", "x.cos()", "x.norm()", "x.norm(dim=1)",
    "float(s)", "int(s)", "[10, 20, 30][torch.tensor(1)]", "bool(s)", "len(x)", "x.abs().sqrt()",
    "x.exp().log()", "x.transpose(0, 1)", "x.permute(1, 0)", "x.detach().numpy()", "x.item() if False else s.item()",
    "x.tolist()", "x.contiguous()", "x.clone()", "x.sigmoid()", "x.tanh()", "x.relu()",
    # top-level functions
    "torch.flatten(x)", "torch.max(x)", "torch.max(x, dim=1).values", "torch.max(x, torch.zeros(2, 3))",
    "torch.min(x)", "torch.argmax(x)", "torch.argmax(x, dim=1)", "torch.exp(x)", "torch.log(x.abs())",
    "torch.matmul(x, x.t())", "torch.einsum('ij,kj->ik', x, x)", "torch.clamp(x, 0, 1)", "torch.gather(x, 1, i)",
    "torch.topk(v, 2).values", "torch.sort(v).values", "torch.sum(x)", "torch.sum(x, dim=1)", "torch.mean(x)",
    "torch.sqrt(x.abs())", "torch.abs(x)", "torch.sigmoid(x)", "torch.tanh(x)", "torch.relu(x)",
    "torch.softmax(x, dim=1)", "torch.transpose(x, 0, 1)", "torch.reshape(x, (3, 2))", "torch.squeeze(x.unsqueeze(0))",
    "torch.unsqueeze(x, 1)", "torch.allclose(x, x)", "torch.equal(x, x)", "torch.numel(x)", "torch.is_tensor(x)",
    "torch.where(x > 0, x, torch.zeros_like(x))", "torch.cat((x, x))", "torch.pow(x, 2)", "torch.sin(x)",
    "torch.chunk(x, 2)[0]", "torch.split(x, 1)[0]", "torch.masked_fill(x, m, 1.0)", "torch.norm(x)",
    "torch.var(x, dim=1)", "torch.std(x)", "torch.logsumexp(x, dim=1)", "torch.log_softmax(x, dim=1)",
    "torch.argmin(x)", "torch.minimum(x, s)", "torch.maximum(x, s)", "torch.t(x)", "torch.numel(v)",
    # dtypes
    "torch.float32", "torch.float", "torch.float64", "torch.double", "torch.float16", "torch.half",
    "torch.int64", "torch.long", "torch.int32", "torch.int", "torch.bool", "torch.uint8",
    "x.to(torch.float64).dtype", "x.dtype == torch.float32", "torch.zeros(2, dtype=torch.long).dtype",
    "torch.ones(2, dtype=torch.bool).dtype", "x.to(dtype=torch.float16).dtype",
    # devices
    "str(torch.device('cpu'))", "str(x.device)", "x.to('cpu')", "x.to('cpu', torch.float64).dtype", "x.cpu()",
    "x.to(None)", "torch.cuda.is_available()", "x.to(torch.device('cpu'))", "x.is_cuda",
    "torch.nn.Linear(2, 3).to('cpu').weight.shape", "torch.nn.Linear(2, 3).to(torch.device('cpu')).weight.dtype",
]


def _plain(value):
    """A comparable form of a result: ndarrays for tensors, recursively for tuples and lists."""
    if hasattr(value, "detach") and hasattr(value, "shape"):
        return np.asarray(value.detach().numpy())
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value) if not hasattr(value, "_fields") else tuple(
            _plain(v) for v in value)
    if hasattr(value, "itemsize") or type(value).__name__ == "dtype":
        return str(value).replace("torch.", "")
    if type(value).__name__ == "device":
        return str(value)
    return value


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.allclose(a, b, equal_nan=True)) if a.dtype.kind in "fc" else bool((a == b).all())
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return bool(np.isclose(a, b))
    return a == b


def _run(module, code):
    scope = {"torch": module, "np": np}
    exec(SETUP, scope)
    return eval(code, scope)


def failures(compare: bool = True) -> dict:
    """{call: why it fails} over CALLS; with compare, results are checked against PyTorch
    where it is installed (random calls are only run)."""
    import tensorgrad
    torch = None
    if compare:
        try:
            import torch
        except ImportError:
            pass
    failed = {}
    for code in CALLS:
        try:
            ours = _plain(_run(tensorgrad, code))
        except Exception as error:  # noqa: BLE001 - the probe counts every failure
            failed[code] = f"{type(error).__name__}: {str(error)[:100]}"
            continue
        if torch is not None and not any(r in code for r in ("randn", "rand(", "randint", "empty")):
            theirs = _plain(_run(torch, code))
            if not _same(ours, theirs):
                failed[code] = f"{ours!r} vs torch {theirs!r}"
    return failed


if __name__ == "__main__":
    failed = failures()
    if "-v" in sys.argv:
        for code, why in failed.items():
            print(f"{code}: {why}")
    print(f"{len(CALLS) - len(failed)}/{len(CALLS)} PyTorch calls work")
