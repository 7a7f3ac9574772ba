"""The error hierarchy: one root, a subclass per kind of bad input."""


class IntradayRLError(Exception):
    """Root of every error intraday-rl raises on purpose."""


class ConfigError(IntradayRLError, ValueError):
    """A configuration file or object is invalid; the message names the field."""


class DataError(IntradayRLError, ValueError):
    """Market data is missing, malformed or inconsistent; the message names file, column and row."""


class FeatureError(IntradayRLError, ValueError):
    """A feature spec or feature input is invalid."""


class EnvError(IntradayRLError, ValueError):
    """An environment was built or stepped with invalid arguments."""


class ActionError(IntradayRLError, ValueError):
    """A policy action is not one its action mapping accepts (index out of range, not finite)."""


class RiskConfigError(ConfigError):
    """A risk policy (``risk_limits.yaml``) is invalid; the message names the key."""


class BundleError(IntradayRLError):
    """A policy bundle cannot be written, read, verified or run; the message names the problem."""


class BundleNotFoundError(BundleError, FileNotFoundError):
    """The bundle folder does not exist or is not a folder."""


class BundleIntegrityError(BundleError):
    """A bundle's files differ from what its metadata recorded at export."""


class BundleMissingFileError(BundleIntegrityError):
    """A file the bundle needs (``metadata.json`` or one listed in it) is missing."""


class BundleChecksumError(BundleIntegrityError):
    """A bundle file's sha256 differs from the one recorded in ``metadata.json``."""


class BundleMetadataEditedError(BundleIntegrityError):
    """``metadata.json`` was changed after export (its recorded content hashes do not match)."""


class BundleSchemaError(BundleError):
    """``metadata.json`` is not valid JSON or does not follow the bundle schema."""


class BundleSchemaVersionError(BundleSchemaError):
    """The bundle's ``schema_version`` is not one this code can read."""


class BundleLayoutMismatchError(BundleError):
    """The bundle's observation layout or feature spec differs from the running code's."""


class BundleVerificationError(BundleError):
    """A runtime does not reproduce the actions recorded at export (parity check failed)."""


class BundleExportError(BundleError):
    """A model cannot be exported (unsupported algorithm or space, bad arguments, target exists)."""


class BundleRuntimeUnavailableError(BundleError, ImportError):
    """The package a bundle runtime needs (torch, onnxruntime) is not installed."""


class PredictionInputError(BundleError, ValueError):
    """An observation given to ``predict`` has the wrong shape, an unsafe dtype, or NaN / inf."""


class ExecutionError(IntradayRLError, ValueError):
    """Bad input to the execution engine: an order, a broker call, a feed or a backtest setting."""
