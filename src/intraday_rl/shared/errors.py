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
