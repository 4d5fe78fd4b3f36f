"""Only the package list lives here: everything else is in pyproject.toml.

find_packages() cannot see folders that pyproject's package-dir maps into the package (the top-level
templates/ and configs/), so they are added by name.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["reportgen*"]), "reportgen.templates", "reportgen.configs"])
