"""detect_anomaly: the first NaN/inf, forward or backward, names the op and the user's line."""
import numpy as np
import pytest

import tensorgrad as tg


def test_forward_nan_names_the_op_and_the_calling_line():
    x = tg.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with tg.detect_anomaly(), np.errstate(invalid="ignore"):
            x.log()  # the line that must be named
    message = str(info.value)
    assert "detect_anomaly: Log produced nan (1 of 2 values, shape (2,))" in message
    assert "test_anomaly.py" in message and "x.log()  # the line that must be named" in message


def test_backward_inf_names_the_op_and_where_it_was_created():
    x = tg.tensor([4.0, 0.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with tg.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
            y = x.sqrt()  # created here
            (y * 2).sum().backward()
    message = str(info.value)
    assert "Sqrt.backward produced inf" in message and "gradient of input 0" in message
    assert "y = x.sqrt()  # created here" in message


def test_no_false_alarm_and_monitor_removed_on_exit():
    x = tg.tensor([1.0, 2.0], requires_grad=True)

    @tg.detect_anomaly()
    def step():
        x.exp().log().sum().backward()

    step()
    np.testing.assert_allclose(x.grad.data, [1.0, 1.0])
    with np.errstate(divide="ignore"):
        out = tg.tensor([0.0]).log()     # outside the block: no check
    assert np.isinf(out.data).all()
