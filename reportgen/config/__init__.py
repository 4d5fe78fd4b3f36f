"""The config: its typed schema, the wording of its errors, and the starter files of ``init``."""
