"""Primitive ops: each a `Function` with a hand-written backward, one file per family."""
