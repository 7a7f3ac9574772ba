"""The regime feature: fitted on training sessions, filtered causally, equal in batch and stream."""

import numpy as np
import pytest

from intraday_rl.data.config import SyntheticMarketConfig
from intraday_rl.data.synthetic import generate_market
from intraday_rl.features import (
    FeatureDef,
    FeatureSpec,
    compute_features,
    fit_feature_spec,
    stream_session,
)
from intraday_rl.features.regime import fit_regime_model, regime_batch
from intraday_rl.shared.errors import FeatureError


@pytest.fixture(scope="module")
def market():
    return generate_market(SyntheticMarketConfig(n_sessions=60, seed=5))


@pytest.fixture(scope="module")
def fitted(market):
    sessions = market.sessions()
    return sessions, fit_regime_model(sessions[:45])


def test_fitted_states_recover_the_generators_regimes_out_of_sample(market, fitted):
    sessions, model = fitted
    truth = market.regimes["regime"].tolist()
    found = []
    for session in sessions:
        columns = regime_batch(model, session.open, session.close)
        found.append(int(np.argmax([column[-1] for column in columns[: model.n_states]])))
    # Name each fitted state by the true regime it most often meets on the training sessions.
    names = {}
    for state in range(model.n_states):
        seen = [truth[i] for i in range(45) if found[i] == state]
        names[state] = max(set(seen), key=seen.count) if seen else "none"
    test_hits = [names[found[i]] == truth[i] for i in range(45, 60)]
    assert np.mean(test_hits) >= 0.8
    assert model.residual_std == tuple(sorted(model.residual_std))


def test_forecast_predicts_next_bar_returns_out_of_sample(market, fitted):
    sessions, model = fitted
    forecasts, realized = [], []
    for session in sessions[45:]:
        columns = regime_batch(model, session.open, session.close)
        forecasts.append(columns[model.n_states][:-1])
        realized.append(np.log(session.close[1:] / session.open[1:]))
    correlation = np.corrcoef(np.concatenate(forecasts), np.concatenate(realized))[0, 1]
    assert correlation > 0.03


def test_batch_and_streaming_agree_on_a_fitted_spec(market):
    sessions = market.sessions()
    spec = fit_feature_spec(
        FeatureSpec(features=(FeatureDef(kind="regime", n_states=2), FeatureDef(kind="rsi"))),
        sessions[:20],
    )
    for session in sessions[20:24]:
        np.testing.assert_allclose(
            stream_session(spec, session), compute_features(spec, session), rtol=0, atol=1e-9
        )


def test_an_unfitted_regime_cannot_be_computed(market):
    spec = FeatureSpec(features=(FeatureDef(kind="regime"),))
    assert not spec.fitted
    with pytest.raises(FeatureError, match="fit_feature_spec"):
        compute_features(spec, market.sessions()[0])
    with pytest.raises(FeatureError, match="fit_feature_spec"):
        stream_session(spec, market.sessions()[0])


def test_fitting_is_deterministic_part_of_the_hash_and_survives_json(market):
    sessions = market.sessions()[:12]
    spec = FeatureSpec(features=(FeatureDef(kind="regime", n_states=2),))
    first, second = fit_feature_spec(spec, sessions), fit_feature_spec(spec, sessions)
    assert first == second
    assert first.fitted
    assert first.spec_hash() != spec.spec_hash()
    assert fit_feature_spec(first, market.sessions()[12:30]) is first  # fitted: kept
    assert FeatureSpec.model_validate_json(first.canonical_json()) == first


def test_too_few_sessions_to_fit_names_the_count(market):
    with pytest.raises(FeatureError, match="at least 6 training sessions"):
        fit_regime_model(market.sessions()[:3])


def test_specs_without_a_regime_hash_as_before():
    data = FeatureDef(kind="rsi").model_dump(mode="json")
    assert "model" not in data
    assert "n_states" not in data
