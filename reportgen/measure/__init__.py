"""Measuring, in the parent process: data sets, one fresh worker per job, outputs to metrics and parity.

Nothing in this package outside ``worker/`` imports torch or onnxruntime.
"""
