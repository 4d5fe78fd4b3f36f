"""Files that ship inside the package: the templates (with locales and assets) and the built-in configs.

In the checkout they live at the top level (``templates/``, ``configs/``); pyproject.toml maps them
into the package as ``reportgen.templates`` and ``reportgen.configs``, so an editable install and a
wheel find them the same way, through importlib.resources.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _folder(package: str) -> Path:
    # Jinja2's loader and our copies need a real folder: wheels are installed unpacked, not zipped.
    return Path(str(resources.files(package)))


def templates_dir() -> Path:
    """Return the folder of the Jinja2 templates, the locales and the static assets."""
    return _folder("reportgen.templates")


def config_path(name: str) -> Path:
    """Return a built-in config shipped with the package (``demo``: configs/demo.yaml)."""
    return _folder("reportgen.configs") / f"{name}.yaml"
