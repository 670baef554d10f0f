"""Measured against simulated: alignment, residuals, calibration, forecast and alerts.

Everything in this package is pure model code (numbers in, numbers out); the store, the
plots and the command line live in :mod:`tankeco.cli.cmd_compare` and the dashboard.
"""
