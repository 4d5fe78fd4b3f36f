"""Tasks: pre-processing, post-processing and metrics, shared by every backend (numpy only)."""
