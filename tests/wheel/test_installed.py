"""The runtimes are extras: a backend whose package is missing says so, with the pip line."""

import pytest

from reportgen.measure.worker.backends import installed
from reportgen.measure.worker.backends.availability import Unavailable


def test_installed_runtimes_and_kinds_without_a_package_pass():
    for kind in ("onnxruntime", "openvino", "pytorch", "torch_compile"):
        assert installed.missing(kind) is None


def test_a_missing_runtime_is_unavailable_with_the_pip_line(monkeypatch):
    monkeypatch.setitem(
        installed.RUNTIMES, "onnxruntime", ("reportgen_absent_runtime", ("onnxruntime", "onnxruntime-gpu"))
    )
    with pytest.raises(Unavailable) as caught:
        installed.require("onnxruntime")
    assert str(caught.value) == (
        "the Python package reportgen_absent_runtime is not installed: pip install 'reportgen[onnxruntime]' "
        "or pip install 'reportgen[onnxruntime-gpu]'"
    )
