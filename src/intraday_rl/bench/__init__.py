"""Benchmarks behind ``intraday-rl bench``: each reports its own keys and a same-run reference."""
