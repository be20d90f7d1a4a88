"""`profile`: where the time goes, per primitive op type, forward and backward."""
from __future__ import annotations

import time
from dataclasses import dataclass

from . import autograd


@dataclass
class OpStats:
    """Totals for one primitive (Function subclass) inside a `profile` block."""

    calls: int = 0
    forward_s: float = 0.0
    backward_calls: int = 0
    backward_s: float = 0.0
    bytes: int = 0          # bytes of the arrays the op produced: outputs and gradients

    @property
    def total_s(self) -> float:
        return self.forward_s + self.backward_s


class profile:
    """Record per-op forward/backward time, call counts and bytes produced.

        with tg.profile() as prof:
            loss = model(x).mean(); loss.backward()
        print(prof)            # a table sorted by total time

    The times are wall-clock seconds of each primitive's forward and backward only; the rest
    of the block (Python glue, the engine, optimizer steps) shows as "outside ops".
    """

    def __init__(self):
        self.ops: dict[str, OpStats] = {}
        self.wall_s = 0.0

    def __enter__(self):
        self._start = time.perf_counter()
        autograd.monitors.append(self)
        return self

    def __exit__(self, *exc_info):
        autograd.monitors.remove(self)
        self.wall_s += time.perf_counter() - self._start
        return False

    def _stats(self, fn) -> OpStats:
        return self.ops.setdefault(fn.__name__, OpStats())

    def forward(self, fn, ctx, out, seconds) -> None:
        stats = self._stats(fn)
        stats.calls += 1
        stats.forward_s += seconds
        stats.bytes += out.nbytes

    def backward(self, ctx, grads, seconds) -> None:
        stats = self._stats(ctx.fn)
        stats.backward_calls += 1
        stats.backward_s += seconds
        stats.bytes += sum(g.nbytes for g in grads if g is not None)

    def table(self) -> str:
        """A Markdown table of the ops, most expensive first."""
        rows = sorted(self.ops.items(), key=lambda kv: kv[1].total_s, reverse=True)
        in_ops = sum(s.total_s for _, s in rows)
        wall = max(self.wall_s, in_ops, 1e-12)
        lines = ["| op | calls | forward ms | backward ms | total ms | % of block | MB produced |",
                 "|---|---|---|---|---|---|---|"]
        for name, s in rows:
            lines.append(f"| {name} | {s.calls} | {1e3 * s.forward_s:.2f} | {1e3 * s.backward_s:.2f} "
                         f"| {1e3 * s.total_s:.2f} | {100 * s.total_s / wall:.1f} | {s.bytes / 1e6:.2f} |")
        lines.append(f"| outside ops | | | | {1e3 * (wall - in_ops):.2f} | {100 * (wall - in_ops) / wall:.1f} | |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()
