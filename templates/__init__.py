"""Installed as reportgen.templates (pyproject.toml maps this folder into the package); no code."""
