"""Features: the spec and its hash, batch computation per session, O(1) streaming per bar."""

from intraday_rl.features.batch import compute_features, compute_features_many
from intraday_rl.features.config import FEATURE_KINDS, FeatureDef, FeatureKind, FeatureSpec
from intraday_rl.features.fitting import fit_feature_spec
from intraday_rl.features.inputs import SessionBars
from intraday_rl.features.streaming import FeatureStream, stream_session

__all__ = [
    "FEATURE_KINDS",
    "FeatureDef",
    "FeatureKind",
    "FeatureSpec",
    "FeatureStream",
    "SessionBars",
    "compute_features",
    "compute_features_many",
    "fit_feature_spec",
    "stream_session",
]
