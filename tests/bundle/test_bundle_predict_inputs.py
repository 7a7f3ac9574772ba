"""``predict`` refuses wrong shapes, unsafe dtypes and non-finite values, naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

from intraday_rl.bundle import NumpyPolicy, OnnxRuntimePolicy, TorchScriptPolicy
from intraday_rl.shared.errors import PredictionInputError

RUNTIMES = (OnnxRuntimePolicy, NumpyPolicy, TorchScriptPolicy)


@pytest.fixture(scope="module", params=RUNTIMES, ids=lambda cls: cls.runtime)
def policy(request, bundles):
    return request.param.load_bundle(bundles["DQN"])


@pytest.fixture(scope="module")
def observation(trained):
    return trained["DQN"].observations[10].copy()


@pytest.mark.parametrize(
    "shape", [(51,), (53,), (2, 3, 52), (0, 52), (52, 1), ()], ids=lambda shape: str(shape)
)
def test_wrong_shapes_are_refused_with_the_expected_shape(policy, shape):
    with pytest.raises(PredictionInputError, match=r"expected shape \(52,\) or \(n, 52\)"):
        policy.predict(np.zeros(shape, dtype=np.float32))


@pytest.mark.parametrize(
    "value",
    [
        np.zeros(52, dtype=bool),
        np.zeros(52, dtype=np.complex64),
        np.array(["0.1"] * 52),
        np.zeros(52, dtype="datetime64[ns]"),
        np.array([0.1] * 51 + [None], dtype=object),
    ],
    ids=["bool", "complex", "str", "datetime", "object"],
)
def test_dtypes_that_cannot_be_cast_safely_are_refused(policy, value):
    with pytest.raises(PredictionInputError, match=r"cannot be cast safely to float32"):
        policy.predict(value)


def test_non_array_inputs_are_refused(policy):
    with pytest.raises(PredictionInputError, match="expected a numeric array, was str"):
        policy.predict("0.1, 0.2")
    with pytest.raises(PredictionInputError, match="cannot be read as an array"):
        policy.predict([[0.0] * 52, [0.0] * 3])


def test_safe_dtypes_give_the_float32_action(policy, observation):
    expected = policy.predict(observation)[0]
    assert policy.predict(observation.astype(np.float64))[0] == expected
    assert policy.predict(observation.tolist())[0] == expected
    assert policy.predict(np.asfortranarray(observation[None, :]))[0][0] == expected
    assert policy.predict(observation.astype(">f4"))[0] == expected  # big-endian
    strided = np.repeat(observation, 2)[::2]
    assert policy.predict(strided)[0] == expected
    small_ints = np.round(observation).astype(np.int16)
    assert isinstance(policy.predict(small_ints)[0], int)


def test_integers_float32_cannot_represent_exactly_are_refused(policy):
    big = np.zeros(52, dtype=np.int64)
    big[3] = 2**24 + 1
    with pytest.raises(PredictionInputError, match=r"2\*\*24"):
        policy.predict(big)


def test_float64_values_beyond_float32_range_are_refused(policy, observation):
    huge = observation.astype(np.float64)
    huge[0] = 1e300
    with pytest.raises(PredictionInputError, match="beyond float32's range"):
        policy.predict(huge)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_values_are_refused_naming_the_field(policy, observation, bad):
    values = observation.copy()
    values[49] = bad  # position, unrealized_pnl, time_left, drawdown are the last four
    with pytest.raises(PredictionInputError, match=r"element 49 \(unrealized_pnl\) is"):
        policy.predict(values)
    values = observation.copy()
    values[5] = bad
    with pytest.raises(PredictionInputError, match=r"element 5 \(rsi_14\[t-3\]\)"):
        policy.predict(values)


def test_non_finite_values_in_a_batch_name_the_row(policy, observation):
    batch = np.stack([observation] * 4)
    batch[2, 7] = np.nan
    with pytest.raises(PredictionInputError, match=r"row 2, element 7"):
        policy.predict(batch)


def test_large_finite_values_are_not_mistaken_for_inf(policy, observation):
    values = observation.copy()
    values[0] = 3e30  # its square overflows float32; the value itself is fine
    action, _ = policy.predict(values)
    assert isinstance(action, int)


def test_deterministic_false_is_refused(policy, observation):
    with pytest.raises(PredictionInputError, match="greedy policy only"):
        policy.predict(observation, deterministic=False)


def test_predict_does_not_modify_the_callers_array(policy, observation):
    before = observation.copy()
    policy.predict(observation)
    policy.predict(observation[None, :])
    np.testing.assert_array_equal(observation, before)


def test_a_batch_returns_int64_actions_and_target_positions(policy, trained):
    observations = trained["DQN"].observations[:16]
    actions, info = policy.predict(observations)
    assert actions.dtype == np.int64
    assert actions.shape == (16,)
    np.testing.assert_array_equal(info["target_positions"], np.array([-1.0, 0.0, 1.0])[actions])
