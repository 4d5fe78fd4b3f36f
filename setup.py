"""Only the package list lives here: everything else is in pyproject.toml.

Data folders are packages too (setuptools >= 68 warns that a folder of package data missing from
``packages`` "would be ignored"): find_namespace_packages() lists those inside reportgen/, and the
top-level templates/ and configs/ that pyproject's package-dir maps into the package are added by name
with their data subfolders, since no finder can see mapped folders.
"""

from setuptools import find_namespace_packages, setup

MAPPED = ["reportgen.templates", "reportgen.templates.assets", "reportgen.templates.locales"]
MAPPED += ["reportgen.configs", "reportgen.configs.text"]

setup(packages=[*find_namespace_packages(include=["reportgen*"], exclude=["*__pycache__"]), *MAPPED])
