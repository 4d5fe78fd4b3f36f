"""Property tests: whatever a results file holds, read_results returns a document or raises a
ResultsError of one line, ``<file>: ...``; never another exception, never a traceback. And a document
it accepts renders: the pages read it without guarding the keys the reader guarantees.

Documents are mutations of tests/data/results_v2.json, as written (schema 2, so the upgrade runs on
them) and as read (schema 3): keys deleted, values of the wrong type, NaN and infinities (written as
the NaN / Infinity literals Python's JSON writes), huge numbers, strings with markup, junk nested in;
and any bytes. Pages are rendered from edits that keep many documents valid (a value of the same
kind, null, a key left out, a list cut short). The number of examples comes from the Hypothesis profile (tests/conftest.py): "ci" by
default; `HYPOTHESIS_PROFILE=thorough` for thousands per test.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from reportgen.errors import ResultsError
from reportgen.results.document import read_results

DATA = Path(__file__).parent / "data" / "results_v2.json"
RAW = json.loads(DATA.read_text(encoding="utf-8"))  # schema 2: read_results upgrades it
CURRENT = read_results(DATA)  # schema 3
MARKUP = [
    "<script>alert(1)</script>",
    "[red]x[/red]",
    "{{ config }}",
    "{0}",
    "%s",
    "a\nb",
    "\x00",
    "\u202e",
    "",
]
# Fewer examples for the rendering property: a page takes a fraction of a second.
RENDERS = max(10, settings().max_examples // 5)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**53, 2**63, 10**30, -(10**30), 10**400, 1e308, -1e308, 1e-320]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(MARKUP),
    st.sampled_from(["ok", "failed", "pytorch", "onnxruntime", "0.1.0", "../../etc", "assets", "en", "ko"]),
    st.text(max_size=20),
)
junk = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def path_into(draw, document: Any, min_depth: int = 1) -> tuple[Any, ...]:
    """Draw the path of a value inside ``document`` by a random walk from its root, at least
    ``min_depth`` deep where the document nests that far, stopping one time in four after that.

    A walk rather than a choice among every path: the latency samples (most of the document's
    values) would otherwise draw nearly every mutation."""
    path: tuple[Any, ...] = ()
    value = document
    while True:
        keys = (
            list(value)
            if isinstance(value, dict)
            else list(range(len(value)))
            if isinstance(value, list)
            else []
        )
        if not keys or (len(path) >= min_depth and not draw(st.integers(0, 3))):
            return path
        key = draw(st.sampled_from(keys))
        path, value = (*path, key), value[key]


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


@st.composite
def mutated(draw) -> dict:
    document = copy.deepcopy(draw(st.sampled_from([RAW, CURRENT])))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(path_into(document))
        if not path:
            break
        parent, key = _parent(document, path), path[-1]
        action = draw(st.sampled_from(["delete", "replace", "replace", "wrap"]))
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(junk)
        else:  # the value one level deeper, where a number or a string was expected
            parent[key] = [parent[key]] if draw(st.booleans()) else {"value": parent[key]}
        event(f"{action} at depth {len(path)}")
    return document


def _alike(value: Any) -> st.SearchStrategy:
    """Values of the same kind as ``value``: other numbers of its sign, other texts, the other bool."""
    if isinstance(value, bool):
        return st.just(not value)
    if isinstance(value, int | float):
        factors = st.sampled_from([0, 0.5, 2, 1e-6, 1e6])
        return factors.map(lambda f: type(value)(value * f))
    if isinstance(value, str):
        return st.one_of(st.sampled_from(MARKUP), st.text(max_size=20))
    return st.none()


@st.composite
def edited(draw) -> dict:
    """A document changed as a plausible run or a hand edit would: a value of the same kind, null, a
    key left out, a list cut short. Many of them are still valid documents (the page must render)."""
    document = copy.deepcopy(draw(st.sampled_from([RAW, CURRENT])))
    for _ in range(draw(st.integers(1, 2))):
        section = draw(st.sampled_from(["backends", "model", "environment", "dataset", "examples"]))
        path = (section, *draw(path_into(document[section])))
        parent, key = _parent(document, path), path[-1]
        value = parent[key]
        action = draw(st.sampled_from(["alike", "alike", "null", "delete", "cut"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif action == "cut" and isinstance(value, list | dict) and value:
            keep = draw(st.integers(0, len(value) - 1))
            parent[key] = value[:keep] if isinstance(value, list) else dict(list(value.items())[:keep])
        elif action == "null":
            parent[key] = None
        else:
            parent[key] = draw(_alike(value))
        event(action)
    return document


@pytest.fixture(scope="module")
def results_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "r.json"


def _read(path: Path) -> dict | None:
    """Read ``path``; return the document, or None after checking the refusal is one line naming it."""
    try:
        document = read_results(path)
    except ResultsError as e:
        message = str(e)
        assert e.exit_code == 2
        assert "\n" not in message and "\r" not in message, message
        assert message.startswith(f"{path}: "), message
        assert len(message) <= 600, message
        event("refused")
        return None
    event("accepted")
    assert isinstance(document, dict)
    return document


def _write(path: Path, document: Any) -> None:
    # NaN and infinities as the NaN / Infinity literals of Python's JSON writer.
    path.write_text(json.dumps(document), encoding="utf-8")


@given(mutated())
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_a_mutated_document_is_read_or_refused_in_one_line(results_file, document):
    _write(results_file, document)
    _read(results_file)


@given(st.binary(max_size=300))
def test_any_bytes_are_read_or_refused_in_one_line(results_file, data):
    results_file.write_bytes(data)
    _read(results_file)


@given(junk)
def test_any_json_is_read_or_refused_in_one_line(results_file, data):
    _write(results_file, data)
    _read(results_file)


@given(edited())
@settings(max_examples=RENDERS, suppress_health_check=list(HealthCheck))
def test_an_accepted_document_renders(results_file, document):
    from reportgen.report.render import render_index, render_report

    _write(results_file, document)
    accepted = _read(results_file)
    assume(accepted is not None)  # the refusals are the other tests' business
    assert "<html" in render_report(accepted, None)
    assert "<html" in render_report(accepted, CURRENT)  # with a "changes since" table
    assert "<html" in render_index([accepted, {**CURRENT, "version": "0.0.1"}])  # and the trends
    json.dumps(accepted, allow_nan=False)  # the archive can write it: no NaN anywhere
