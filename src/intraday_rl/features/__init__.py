"""Features: the spec and its hash, batch computation per session, O(1) streaming per bar, and
the observation (layout, portfolio fields, the per-bar ObservationStream)."""

from intraday_rl.features.batch import compute_features, compute_features_many
from intraday_rl.features.config import FEATURE_KINDS, FeatureDef, FeatureKind, FeatureSpec
from intraday_rl.features.fitting import fit_feature_spec
from intraday_rl.features.inputs import SessionBars
from intraday_rl.features.observation_stream import ObservationStream
from intraday_rl.features.portfolio import portfolio_fields, session_time_left
from intraday_rl.features.streaming import FeatureStream, stream_session

__all__ = [
    "FEATURE_KINDS",
    "FeatureDef",
    "FeatureKind",
    "FeatureSpec",
    "FeatureStream",
    "ObservationStream",
    "SessionBars",
    "compute_features",
    "compute_features_many",
    "fit_feature_spec",
    "portfolio_fields",
    "session_time_left",
    "stream_session",
]
