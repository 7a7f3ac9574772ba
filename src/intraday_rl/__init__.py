"""intraday-rl: risk-aware reinforcement learning for intraday trading."""

__version__ = "0.1.0"

__all__ = ["__version__"]
