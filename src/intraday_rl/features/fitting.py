"""Fit a feature spec's learned parts (the regime model) on training sessions only."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from intraday_rl.features.config import FeatureSpec
from intraday_rl.features.inputs import SessionBars
from intraday_rl.features.regime import fit_regime_model

_LOG = logging.getLogger(__name__)


def fit_feature_spec(
    spec: FeatureSpec, sessions: Sequence[SessionBars], seed: int = 0
) -> FeatureSpec:
    """Return ``spec`` with every unfitted regime definition fitted on ``sessions``.

    Definitions already fitted are kept as they are, so fitting a fitted spec returns it
    unchanged. Pass the training sessions only: what is fitted here is part of the spec (and of
    its hash), so it travels into bundles and execution.

    Raises:
        FeatureError: Too few sessions to fit (see :func:`fit_regime_model`).
    """
    if spec.fitted:
        return spec
    features = []
    for feature in spec.features:
        if feature.fitted:
            features.append(feature)
            continue
        model = fit_regime_model(sessions, n_states=feature.int_param("n_states"), seed=seed)
        _LOG.info(
            "fitted regime model on %d sessions: prior %s, residual std %s",
            model.n_train_sessions,
            [round(p, 3) for p in model.prior],
            [round(s, 3) for s in model.residual_std],
        )
        features.append(feature.model_copy(update={"model": model}))
    return FeatureSpec(features=tuple(features))
