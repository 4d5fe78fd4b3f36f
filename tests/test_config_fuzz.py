"""Property tests: whatever a config file holds, load_config returns a Config or raises a ConfigError
whose every line is one problem, `<file>: ...`; never another exception, never a traceback.

Documents are generated three ways: any text (YAML punctuation included), random nested mappings,
lists and scalars with the config's own key names, and mutations of configs/demo.yaml (keys deleted,
values of the wrong type, huge numbers, NaN, strings with markup, junk nested in). The number of
examples comes from the Hypothesis profile (tests/conftest.py): "ci" by default, a few hundred in
all; `HYPOTHESIS_PROFILE=thorough` for thousands per test.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given
from hypothesis import strategies as st

from reportgen.config.schema import Config, load_config
from reportgen.config.words import key_path
from reportgen.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DEMO = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8"))

# The config's key names at every level, so that generated documents get past "unknown key" often.
KEYS = sorted(
    {"version", "title", "locale", "reference", "model", "dataset", "export", "backends", "measurement"}
    | {"postprocess", "parity", "analysis", "site", "name", "source", "checkpoint", "factory", "task"}
    | {"python_path", "input_size", "input_shape", "class_names", "mean", "std", "seed", "images", "path"}
    | {"labels", "labels_path", "exporter", "opset", "onnx_file", "kind", "threads", "quantization"}
    | {"graph_optimization", "warmup_iterations", "timeout_s", "calibration_images", "letterbox", "dir"}
    | {"rounds", "min_iterations", "max_iterations", "min_time_s", "conf_threshold", "atol", "min_samples"}
)

MARKUP = [
    "[red]x[/red]",
    "[bold]",
    "<script>alert(1)</script>",
    "{{ config }}",
    "${HOME}",
    "a\nb",
    "\x00",
    "\u202e",
    "../../etc",
    "~",
    "/",
    "*",
    "",
    " ",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**31, 2**63, 10**30, -(10**30), 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(MARKUP),
    st.sampled_from(["pytorch", "onnxruntime", "torchscript", "folder", "synthetic", "raw", "coco", "0.1.0"]),
    st.text(max_size=30),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12), st.integers(-3, 3), st.booleans())
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=6)),
    max_leaves=40,
)
config_like = st.dictionaries(st.sampled_from(KEYS), documents, max_size=8)

# Any text, weighted towards YAML's own punctuation.
yaml_text = st.text(
    alphabet=st.sampled_from(list("{}[]:-&*!|>'\"#%@`,?~ \n\t.0123456789abcdeyn") + ["\x00", "\ufeff", "é"]),
    max_size=200,
)


@pytest.fixture(scope="module")
def config_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "c.yaml"


def _load(path: Path, text: str | bytes) -> Config | list[str]:
    """Load `text` as a config file; return the Config or the error's lines, checked to be one each."""
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        config = load_config(path)
    except ConfigError as exc:
        assert exc.exit_code == 2
        lines = str(exc).splitlines()
        event(f"refused, {'one line' if len(lines) == 1 else 'several lines'}")
        assert 1 <= len(lines) <= 21, lines
        for line in lines:
            assert line.startswith(f"{path}: "), line
            assert len(line) <= 600, line
            assert "Traceback" not in line
        assert str(exc) == "\n".join(lines)  # no blank or trailing lines
        return lines
    event("a valid config")
    return config


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@given(yaml_text)
def test_any_text_is_a_config_or_one_line_per_problem(config_file, text):
    _load(config_file, text)


@given(st.binary(max_size=200))
def test_any_bytes_are_a_config_or_one_line_per_problem(config_file, data):
    _load(config_file, data)


@given(st.one_of(documents, config_like))
def test_any_document_is_a_config_or_one_line_per_problem(config_file, data):
    _load(config_file, _dump(data))


# --- Mutations of the demo config -----------------------------------------------------------------


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the path of every value in `data`, containers included."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


DEMO_PATHS = _paths(DEMO)


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _delete(data: Any, path: tuple[Any, ...]) -> None:
    del _get(data, path[:-1])[path[-1]]


def _copy(data: Any) -> Any:
    return yaml.safe_load(_dump(data))


extremes = st.sampled_from(
    [10**30, -(10**30), 2**63, 10**400, 1e308, -1e308, math.nan, math.inf, -math.inf, 0, -1, 0.5, True, None]
)
replacements = st.one_of(extremes, st.sampled_from(MARKUP), documents)


@st.composite
def mutated_demo(draw) -> dict[str, Any]:
    data = _copy(DEMO)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        if draw(st.booleans()):
            _delete(data, path)
        else:
            _set(data, path, draw(replacements))
    return data


@given(mutated_demo())
def test_mutations_of_the_demo_are_a_config_or_one_line_per_problem(config_file, data):
    _load(config_file, _dump(data))


@given(st.sampled_from(DEMO_PATHS), st.sampled_from(MARKUP + [1.5, 10**30, math.nan, True]))
def test_a_value_of_the_wrong_type_is_one_line_naming_its_key(config_file, path, junk):
    # A list where the demo has anything else, a mapping where it has a list: never valid, and the
    # only problem, so exactly one line, naming that key.
    data = _copy(DEMO)
    wrong = {"junk": junk} if isinstance(_get(DEMO, path), list) else [junk, "<b>x</b>"]
    _set(data, path, wrong)
    lines = _load(config_file, _dump(data))
    assert isinstance(lines, list) and len(lines) == 1, lines
    assert lines[0].startswith(f"{config_file}: {key_path(path)}: expected "), lines


def test_the_demo_itself_loads():
    assert isinstance(load_config(ROOT / "configs" / "demo.yaml"), Config)
