"""Primitive ops: each a `Function` with a hand-written backward, one file per family.

Each module's `__all__` lists its primitives and the helpers other modules use. The rule for
lowercase wrappers: a primitive gets one in its own module (`conv2d`, `max_pool2d`,
`avg_pool2d`, `linear`) exactly when `tensorgrad.functional` exposes it as it is; the
wrapper's signature is the public one (optional inputs such as a bias as arguments, settings
as keywords) and functional re-exports it. Primitives reached through Tensor methods and
operators (elementwise, reductions, movement, matmul) are wrapped by those methods, and a
primitive that functional wraps with more logic (`BatchNorm`, whose wrapper also keeps the
running statistics) is wrapped there.
"""
