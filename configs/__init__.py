"""Installed as reportgen.configs (pyproject.toml maps this folder into the package); no code."""
