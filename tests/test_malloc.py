"""`import tensorgrad` tunes glibc's malloc, so a plain training loop does not page-fault its
temporaries back in every step; TENSORGRAD_TUNE_MALLOC=0 keeps glibc's defaults. Each case
runs in a fresh process (malloc settings are process-wide and cannot be undone)."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

import tensorgrad as tg
from tensorgrad import malloc

ROOT = pathlib.Path(__file__).resolve().parent.parent

# A user's own LeNet-5 loop with no tune_malloc() call: minor page faults per step after
# warm-up, as JSON.
LOOP = """
import json, resource
import numpy as np
import tensorgrad as tg
import tensorgrad.functional as F
from tensorgrad import optim
from tensorgrad.nn import models

rng = np.random.default_rng(0)
x = tg.tensor(rng.random((64, 1, 28, 28), dtype=np.float32))
y = tg.tensor(rng.integers(0, 10, 64))
model = models.lenet5(in_channels=1)
opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

def step():
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()

for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(STEPS):
    step()
after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(json.dumps((after - before) / STEPS))
"""


def faults_per_step(opt_out, steps=5) -> float:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    env.pop(malloc.ENV_VAR, None)
    if opt_out is not None:
        env[malloc.ENV_VAR] = opt_out
    result = subprocess.run([sys.executable, "-c", LOOP.replace("STEPS", str(steps))],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def glibc() -> bool:
    return tg.tune_malloc()  # True only where mallopt exists (already applied at import)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="minor page faults: Linux")
def test_training_steps_do_not_page_fault_without_a_call():
    if not glibc():
        pytest.skip("not glibc: tune_malloc is a no-op")
    assert faults_per_step(None) < 50


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="minor page faults: Linux")
@pytest.mark.parametrize("value", ["0", "off"])
def test_opt_out_keeps_glibc_defaults(value):
    # glibc's defaults page-fault LeNet-5's multi-MB temporaries back in every step (about
    # 3,600 faults per step measured): the opt-out restores exactly that behaviour
    if not glibc():
        pytest.skip("not glibc: tune_malloc is a no-op")
    assert faults_per_step(value) > 500


def test_opt_out_values(monkeypatch):
    calls = []
    monkeypatch.setattr(malloc, "tune_malloc", lambda: calls.append(1) or True)
    for value, applied in [("0", False), (" False ", False), ("no", False), ("OFF", False),
                           ("1", True), ("", True), ("yes", True)]:
        monkeypatch.setenv(malloc.ENV_VAR, value)
        assert malloc.tune_malloc_on_import() is applied, value
    monkeypatch.delenv(malloc.ENV_VAR)
    assert malloc.tune_malloc_on_import() is True
    assert len(calls) == 4
