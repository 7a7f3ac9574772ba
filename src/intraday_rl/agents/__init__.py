"""Deprecated location of the trainer: use :mod:`intraday_rl.training` instead."""
