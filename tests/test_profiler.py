"""tg.profile: per-op counts, times and bytes."""
import numpy as np

import tensorgrad as tg


def test_profile_counts_calls_bytes_and_times_per_op():
    x = tg.randn(64, 32, requires_grad=True)
    w = tg.randn(32, 16, requires_grad=True)
    with tg.profile() as prof:
        for _ in range(3):
            loss = (x @ w).relu().sum()
            loss.backward()
    assert prof.ops["MatMul"].calls == 3 and prof.ops["MatMul"].backward_calls == 3
    assert prof.ops["Relu"].calls == 3
    # MatMul produced 3 outputs (64x16) and 3 x (dx 64x32 + dw 32x16), float32
    assert prof.ops["MatMul"].bytes == 3 * 4 * (64 * 16 + 64 * 32 + 32 * 16)
    assert all(s.forward_s > 0 and s.backward_s > 0 for s in prof.ops.values())
    table = str(prof)
    assert table.splitlines()[0].startswith("| op | calls | forward ms")
    assert "| MatMul | 3 |" in table and "outside ops" in table


def test_profile_stops_recording_after_the_block():
    with tg.profile() as prof:
        tg.randn(3, requires_grad=True).exp()
    tg.randn(3, requires_grad=True).exp()
    assert prof.ops["Exp"].calls == 1
    assert np.isfinite(prof.wall_s) and prof.wall_s > 0
