"""max_pool2d and avg_pool2d: gradients, PyTorch equality over asymmetric geometries, the
first-maximum tie rule, the exact-tiling fast path, dtype, and every validation error."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorgrad as tg
from helpers import assert_matches_torch, tg64
from tensorgrad.ops.pool import avg_pool2d, max_pool2d
from tensorgrad.testing import gradcheck
from tensorgrad.testing import strategies as tst

POOLS = {"max": (max_pool2d, "max_pool2d"), "avg": (avg_pool2d, "avg_pool2d")}


def _distinct(shape, seed):
    """Values 0.1 apart in random order: no two elements of a window tie, and finite
    differences never cross a kink of max."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) - 10.0) * 0.1


@pytest.mark.parametrize("kind", POOLS)
@given(cfg=tst.pool2d_configs(), seed=st.integers(0, 2**16))
def test_pool_gradcheck(kind, cfg, seed):
    pool = POOLS[kind][0]
    gradcheck(lambda x: pool(x, **cfg["kwargs"]), tg64(_distinct(cfg["x_shape"], seed)))


@pytest.mark.parametrize("kind", POOLS)
@given(cfg=tst.pool2d_configs(), seed=st.integers(0, 2**16))
def test_pool_matches_torch(kind, cfg, seed):
    torch = pytest.importorskip("torch")
    pool, name = POOLS[kind]
    torch_pool = getattr(torch.nn.functional, name)
    assert_matches_torch(lambda x: pool(x, **cfg["kwargs"]),
                         lambda x: torch_pool(x, **cfg["kwargs"]),
                         [_distinct(cfg["x_shape"], seed)], seed=seed)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=(2, 3)),                          # tiles exactly
    dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 1)),
    dict(kernel_size=3, stride=2, padding=1),
])
def test_max_pool_ties_go_to_the_first_maximum(kwargs):
    """Constant input: every window is one big tie; its whole gradient goes to exactly one
    element, the first in row-major order (padding never wins), as in PyTorch."""
    x = tg64(np.full((2, 3, 6, 9), 1.5))
    out = max_pool2d(x, **kwargs)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(upstream)
    np.testing.assert_allclose(x.grad.data.sum(), upstream.sum())
    kh, kw = np.broadcast_to(kwargs["kernel_size"], 2)
    ph, pw = np.broadcast_to(kwargs.get("padding", 0), 2)
    sh, sw = np.broadcast_to(kwargs.get("stride", (kh, kw)), 2)
    expected = np.zeros(x.shape)
    for y in range(out.shape[2]):
        for x_ in range(out.shape[3]):
            # first element of the window inside the unpadded input, in row-major order
            first = (max(y * sh - ph, 0), max(x_ * sw - pw, 0))
            expected[:, :, first[0], first[1]] += upstream[:, :, y, x_]
    np.testing.assert_allclose(x.grad.data, expected)
    torch = pytest.importorskip("torch")
    tx = torch.full((2, 3, 6, 9), 1.5, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, **kwargs).backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


def test_max_pool_partial_ties_within_a_window():
    x = np.array([[[[1., 3., 3., 0.],
                    [3., 2., 0., 3.]]]])
    xt = tg64(x)
    out = max_pool2d(xt, 2)
    np.testing.assert_array_equal(out.data, [[[[3., 3.]]]])
    out.backward(np.array([[[[10., 20.]]]]))
    np.testing.assert_array_equal(xt.grad.data, [[[[0., 10., 20., 0.],
                                                   [0., 0., 0., 0.]]]])


def _first_max_gradient(x, upstream, kernel, stride, padding):
    """Max-pool input gradient by brute force, window by window: each window's upstream
    gradient to its first maximum in row-major order, padding never winning."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    grad = np.zeros(xp.shape)
    for n, c, y, x_ in np.ndindex(upstream.shape):
        window = xp[n, c, y * sh:y * sh + kh, x_ * sw:x_ * sw + kw]
        i, j = np.unravel_index(np.argmax(window), window.shape)  # argmax: the first maximum
        grad[n, c, y * sh + i, x_ * sw + j] += upstream[n, c, y, x_]
    return grad[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]


@given(cfg=tst.pool2d_configs(), seed=st.integers(0, 2**16))
def test_max_pool_ties_match_brute_force(cfg, seed):
    """Values from {0, 1, 2}: most windows hold ties, often several; tiling (fast path) and
    general geometries both send each window's gradient to its first maximum."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, cfg["x_shape"]).astype(np.float64)
    xt = tg64(x)
    out = max_pool2d(xt, **cfg["kwargs"])
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    kwargs = cfg["kwargs"]
    kernel = tuple(np.broadcast_to(kwargs["kernel_size"], 2))
    stride = kernel if kwargs.get("stride") is None else tuple(np.broadcast_to(kwargs["stride"], 2))
    padding = tuple(np.broadcast_to(kwargs.get("padding", 0), 2))
    # atol 0: an element that gets no gradient must get exactly 0; overlapping windows add in
    # another order than the brute force does, hence rtol
    np.testing.assert_allclose(xt.grad.data, _first_max_gradient(x, upstream, kernel, stride,
                                                                 padding), rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind", POOLS)
@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_pool_of_an_empty_batch(kind, kwargs):
    x = tg64(np.zeros((0, 3, 8, 6)))
    out = POOLS[kind][0](x, **kwargs)
    out.sum().backward()
    assert out.shape == (0, 3, 8 // kwargs.get("stride", 2), 6 // kwargs.get("stride", 2))
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("kind", POOLS)
def test_tiling_fast_path_equals_general_path(kind):
    """kernel == stride tiles exactly (fast path); the same windows in a larger input whose
    extra rows and columns no window reaches take the general path: same values and
    gradients, and none for the extra elements."""
    pool = POOLS[kind][0]
    x = _distinct((2, 3, 6, 9), 7)
    upstream = np.random.default_rng(1).standard_normal((2, 3, 3, 3))
    fast, general = tg64(x), tg64(np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 2)), constant_values=-9))
    out_fast = pool(fast, (2, 3))
    out_general = pool(general, (2, 3))          # 7 x 11: no longer divisible, general path
    np.testing.assert_array_equal(out_fast.data, out_general.data)
    out_fast.backward(upstream)
    out_general.backward(upstream)
    np.testing.assert_array_equal(fast.grad.data, general.grad.data[:, :, :6, :9])
    assert not general.grad.data[:, :, 6:].any() and not general.grad.data[:, :, :, 9:].any()


def test_avg_pool_counts_padding_in_the_average():
    x = tg64(np.ones((1, 1, 2, 2)))
    out = avg_pool2d(x, 2, stride=1, padding=1)
    np.testing.assert_allclose(out.data[0, 0], [[0.25, 0.5, 0.25],
                                                [0.5, 1.0, 0.5],
                                                [0.25, 0.5, 0.25]])
    out.backward(np.ones(out.shape))
    np.testing.assert_allclose(x.grad.data, np.full((1, 1, 2, 2), 1.0))


@pytest.mark.parametrize("kind", POOLS)
def test_pool_float32_stays_float32(kind):
    pool = POOLS[kind][0]
    x = tg.tensor(_distinct((2, 2, 5, 7), 3), dtype=tg.float32, requires_grad=True)
    out = pool(x, (3, 2), stride=(2, 1), padding=(1, 0))
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == x.grad.dtype == np.float32
    ref = pool(tg64(x.data, False), (3, 2), stride=(2, 1), padding=(1, 0))
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-6)


@pytest.mark.parametrize("kind", POOLS)
def test_pool_under_no_grad(kind):
    pool = POOLS[kind][0]
    x = tg64(_distinct((1, 2, 4, 6), 5))
    with tg.no_grad():
        out = pool(x, 2)
    assert not out.requires_grad and out.shape == (1, 2, 2, 3)


@pytest.mark.parametrize("kind", POOLS)
@pytest.mark.parametrize("shape, kwargs, error, match", [
    ((4, 8, 9), dict(kernel_size=2), ValueError, r"4-D input .*\(4, 8, 9\)"),
    ((1, 1, 4, 4), dict(kernel_size=0), ValueError, "kernel_size must be positive"),
    ((1, 1, 4, 4), dict(kernel_size=2, stride=(1, 0)), ValueError, "stride must be positive"),
    ((1, 1, 4, 4), dict(kernel_size=2, padding=-1), ValueError, "padding must be non-negative"),
    ((1, 1, 4, 4), dict(kernel_size=(3, 2), padding=(1, 2)), ValueError,
     r"padding \(1, 2\) must be at most half the kernel size \(3, 2\)"),
    ((1, 1, 4, 4), dict(kernel_size=2.0), TypeError, "kernel_size must be an int or a pair"),
    ((1, 1, 3, 6), dict(kernel_size=(5, 2)), ValueError,
     r"kernel \(5, 2\) is larger than the padded input \(3, 6\)"),
    ((1, 1, 3, 6), dict(kernel_size=(6, 2), padding=(1, 0)), ValueError,
     r"kernel \(6, 2\) is larger than the padded input \(5, 6\)"),
])
def test_pool_validation(kind, shape, kwargs, error, match):
    pool, name = POOLS[kind]
    with pytest.raises(error, match=f"{name}: .*{match}"):
        pool(tg.Tensor(np.zeros(shape)), **kwargs)


@pytest.mark.parametrize("kind", POOLS)
def test_pool_rejects_integer_input(kind):
    pool, name = POOLS[kind]
    with pytest.raises(TypeError, match=f"{name}: expected a floating-point input, got int64"):
        pool(tg.Tensor(np.zeros((1, 1, 4, 4), dtype=np.int64)), 2)
