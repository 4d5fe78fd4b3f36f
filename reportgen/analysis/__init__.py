"""Judging the numbers: rules that turn a results document into findings, and the shared verdicts."""
