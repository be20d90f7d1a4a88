"""PyTorch's tensor API in tensorgrad: every call written the PyTorch way, compared with
PyTorch (values, and float64 gradients where defined) where it is installed; the structure
(named tuples, dtypes, devices, errors) is checked without it."""
import sys
import pathlib

import numpy as np
import pytest

import tensorgrad as tg
from helpers import assert_matches_torch, tg64
from tensorgrad.testing import gradcheck

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import torch_api_probe  # noqa: E402

# where tensorgrad deliberately differs from PyTorch (docs/porting.md says why)
DOCUMENTED_DIFFERENCES = {
    "x.var()",       # NumPy's spelling (no dim=/unbiased=/correction=) keeps NumPy's ddof=0
    "torch.std(x)",  # the same rule
    "x.type()",      # 'tensorgrad.FloatTensor', not 'torch.FloatTensor'
    "torch.tensor(np.ones(3)).dtype",
}


def test_every_probed_pytorch_call_runs():
    assert torch_api_probe.failures(compare=False) == {}


def test_every_probed_pytorch_call_matches_pytorch():
    pytest.importorskip("torch")
    failed = torch_api_probe.failures()
    assert set(failed) == DOCUMENTED_DIFFERENCES, failed
