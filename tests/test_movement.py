"""Movement primitives: reshape, permute, expand, getitem, pad, cat, stack (and the composites
flatten, squeeze, unsqueeze, transpose)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorgrad as tg
from helpers import assert_matches_torch, tg64
from tensorgrad.testing import gradcheck
from tensorgrad.testing import strategies as tst

RNG = np.random.default_rng(42)
A345 = RNG.standard_normal((3, 4, 5))


@given(data=st.data())
def test_reshape_and_flatten(data):
    array = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    new_shape = (array.size,) if data.draw(st.booleans()) else (1, -1)
    gradcheck(lambda x: x.reshape(new_shape), tg64(array))
    assert_matches_torch(lambda x: x.reshape(new_shape), lambda x: x.reshape(new_shape), [array])
    assert_matches_torch(lambda x: x.flatten(), lambda x: x.flatten(), [array])


@given(data=st.data())
def test_permute(data):
    array = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    axes = tuple(data.draw(st.permutations(range(array.ndim))))
    gradcheck(lambda x: x.permute(*axes), tg64(array))
    assert_matches_torch(lambda x: x.permute(*axes), lambda x: x.permute(*axes), [array])


def test_transpose_and_T():
    gradcheck(lambda x: x.transpose(0, 2), tg64(A345))
    assert_matches_torch(lambda x: x.transpose(0, -1), lambda x: x.transpose(0, -1), [A345])
    assert_matches_torch(lambda x: x.T, lambda x: x.permute(2, 1, 0), [A345])


@given(data=st.data())
def test_expand(data):
    small, big = data.draw(tst.broadcastable_shapes(2))
    target = np.broadcast_shapes(small, big)
    array = data.draw(tst.arrays(small))
    gradcheck(lambda x: x.expand(target), tg64(array))
    assert_matches_torch(lambda x: x.expand(target), lambda x: x.expand(target), [array])


INDICES = {
    "int": 1,
    "negative int": -1,
    "step slice": (slice(None, None, 2), slice(3, 0, -1)),
    "None and Ellipsis": (None, Ellipsis, 2),
    "int array with repeats": (np.array([0, 2, 0, 0]),),
    "two int arrays": (np.array([0, 2, 2]), slice(None), np.array([4, 0, 4])),
    "bool mask": (A345[:, :, 0] > 0,),
    "mixed": (slice(1, None), np.array([3, 3, 1]), 0),
}


@pytest.mark.parametrize("name", sorted(INDICES))
def test_getitem(name):
    index = INDICES[name]
    np.testing.assert_array_equal(tg64(A345)[index].data, A345[index])
    gradcheck(lambda x: x[index], tg64(A345))
    if name == "step slice":
        return  # PyTorch has no negative-step slices; gradcheck above covers the backward
    torch = pytest.importorskip("torch")
    torch_index = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i
                        for i in (index if isinstance(index, tuple) else (index,)))
    assert_matches_torch(lambda x: x[index], lambda x: x[torch_index], [A345])


def test_getitem_repeated_indices_sum_their_gradients():
    x = tg64([1.0, 2.0, 3.0])
    x[np.array([0, 0, 2, 0])].backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad.data, [7.0, 0.0, 3.0])


def test_getitem_accepts_tensor_indices_and_reports_out_of_range():
    x = tg64(A345)
    np.testing.assert_array_equal(x[tg.tensor([2, 0])].data, A345[[2, 0]])
    with pytest.raises(IndexError, match=r"getitem: .*out of bounds.*\(3, 4, 5\)"):
        x[3]


def test_pad():
    pad = ((1, 0), (0, 2), (3, 1))
    gradcheck(lambda x: x.pad(pad, value=0.5), tg64(A345))
    out = tg64(A345).pad(pad, value=0.5)
    np.testing.assert_array_equal(out.data, np.pad(A345, pad, constant_values=0.5))
    with pytest.raises(ValueError, match="pad: negative pad_width"):
        tg64(A345).pad(((0, -1), (0, 0), (0, 0)))
    with pytest.raises(ValueError, match="pad: pad_width"):
        tg64(A345).pad(((1, 1), (1, 1)))


def test_pad_matches_torch():
    torch = pytest.importorskip("torch")
    assert_matches_torch(lambda x: x.pad(((1, 0), (0, 2), (3, 1)), value=-1.5),
                         lambda x: torch.nn.functional.pad(x, (3, 1, 0, 2, 1, 0), value=-1.5), [A345])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_and_stack(axis):
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 3, 4))
    c = RNG.standard_normal((2, 3, 4)) if axis != 1 else RNG.standard_normal((2, 5, 4))
    gradcheck(lambda *xs: tg.cat(xs, axis), tg64(a), tg64(b), tg64(c))
    gradcheck(lambda *xs: tg.stack(xs, axis), tg64(a), tg64(b))
    torch = pytest.importorskip("torch")
    assert_matches_torch(lambda *xs: tg.cat(xs, axis), lambda *xs: torch.cat(xs, axis), [a, b, c])
    assert_matches_torch(lambda *xs: tg.stack(xs, axis), lambda *xs: torch.stack(xs, axis), [a, b])


def test_squeeze_unsqueeze():
    array = RNG.standard_normal((3, 1, 4, 1))
    gradcheck(lambda x: x.squeeze(), tg64(array))
    assert tg64(array).squeeze(1).shape == (3, 4, 1)
    assert tg64(array).squeeze((1, -1)).shape == (3, 4)
    assert tg64(array).unsqueeze(-1).shape == (3, 1, 4, 1, 1)
    assert tg64(array).unsqueeze(0).shape == (1, 3, 1, 4, 1)
    gradcheck(lambda x: x.unsqueeze(2), tg64(array))
    with pytest.raises(ValueError, match=r"squeeze: axis 0 of shape \(3, 1, 4, 1\) has size 3"):
        tg64(array).squeeze(0)


def test_movement_errors_name_the_op_and_shapes():
    x = tg64(A345)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(3, 4, 5\) \(60 "
                                         r"elements\) into shape \(7, 8\)"):
        x.reshape(7, 8)
    with pytest.raises(ValueError, match=r"expand: cannot expand a tensor of shape \(3, 4, 5\)"):
        x.expand(3, 2, 5)
    with pytest.raises(ValueError, match="permute: axes"):
        x.permute(0, 0, 1)
    with pytest.raises(ValueError, match=r"cat: cannot concatenate shapes \[\(3, 4, 5\), \(2, 2, 5\)\]"):
        tg.cat([x, tg64(np.ones((2, 2, 5)))])
    with pytest.raises(ValueError, match="stack: all tensors must have the same shape"):
        tg.stack([x, tg64(np.ones((2, 4, 5)))])
    with pytest.raises(ValueError, match="cat: expected a non-empty sequence"):
        tg.cat([])


def test_movement_keeps_float32():
    x = tg.tensor(A345, dtype=tg.float32, requires_grad=True)
    out = tg.cat([x.reshape(5, 12).T[::2], x[0].pad(((1, 1), (0, 0))).expand(2, 6, 5).reshape(12, 5)])
    out.sum().backward()
    assert out.dtype == x.grad.dtype == np.float32
