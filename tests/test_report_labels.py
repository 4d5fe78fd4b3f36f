"""Version labels: one rule (reportgen/results/version.py) at every door, and labels from git tags."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from documents import write
from pydantic import ValidationError
from report_helpers import version

from reportgen.config.schema import Config
from reportgen.errors import ResultsError
from reportgen.release import archive
from reportgen.results.version import EXPECTED, check_version_label, is_version_label


@pytest.fixture
def results(v1) -> dict:
    return v1  # results_v1.json upgraded to the current schema, as every reader gets it


# --- version labels -------------------------------------------------------------------------------


BAD_LABELS = ["../x", "a/b", "assets", "Assets", "index", ".hidden", "x y", "a\\b", "", "1.0\n", "v" * 65]


@pytest.mark.parametrize("label", BAD_LABELS)
def test_path_like_or_reserved_version_labels_are_refused_with_exit_2(results, tmp_path, reportgen, label):
    """The one label rule (results/version.py) at every door: render, render --merge, build and run."""
    (tmp_path / "work").mkdir()
    doc = write(tmp_path / "work" / "r.json", version(results, label, 1))
    other = write(tmp_path / "work" / "s.json", version(results, label, 2))
    expected = f"error: {doc}: version: expected {EXPECTED}, got {label!r}"
    for merge in ([], ["--merge", other]):
        code, _, err = reportgen("render", doc, *merge, "--site-dir", tmp_path / "work" / "site")
        assert code == 2 and err.strip() == expected and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["r.json", "s.json"]
    for command in ("build", "run"):
        code, _, err = reportgen(command, "-c", "configs/demo.yaml", "--version", label)
        assert code == 2 and "configs/demo.yaml with --version: version: expected a label" in err
        assert len(err.strip().splitlines()) == 1


def test_the_label_rule_is_the_configs_rule():
    for label in [*BAD_LABELS, "0.1.0", "v1.2.3-rc_1", "A" * 64, "dev"]:
        ok = is_version_label(label)
        assert ok == (label not in BAD_LABELS), label
        try:
            Config(version=label)
        except ValidationError:
            assert not ok, label
        else:
            assert ok, label
    with pytest.raises(ResultsError) as info:
        check_version_label("x" * 500, "somewhere.json")
    assert info.value.exit_code == 2 and len(str(info.value)) < 300
    assert str(info.value).startswith(f"somewhere.json: version: expected {EXPECTED}, got 'xxx")


def _tagged_repo(path: Path, tag: str) -> Path:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    ident = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "--quiet", str(path)], check=True, env=env)
    subprocess.run(["git", *ident, "commit", "-q", "--allow-empty", "-m", "x"], cwd=path, check=True, env=env)
    if tag:
        subprocess.run(["git", *ident, "tag", tag], cwd=path, check=True, env=env)
    return path


def test_version_from_the_git_tag(results, tmp_path, reportgen, monkeypatch):
    repo = _tagged_repo(tmp_path / "repo", "1.2.0")
    archive.build_site(repo / "site", version(results, "1.2.0", 1), None)
    config = tmp_path / "config.yaml"
    config.write_text(f"site:\n  dir: {repo / 'site'}\n", encoding="utf-8")
    monkeypatch.chdir(repo)
    # The refusal names the tag's version: the label came from git, before any measuring.
    code, _, err = reportgen("build", "-c", config, "--version-from-tag")
    assert code == 1 and "version 1.2.0 already exists" in err
    code, _, err = reportgen("build", "-c", config, "--version-from-tag", "--version", "2.0")
    assert code == 2 and "either --version or --version-from-tag" in err

    monkeypatch.chdir(_tagged_repo(tmp_path / "slash", "release/1.0"))
    code, _, err = reportgen("run", "-c", config, "--version-from-tag")
    assert code == 2 and f"git tag 'release/1.0' cannot be a version label: expected {EXPECTED}" in err
    monkeypatch.chdir(_tagged_repo(tmp_path / "untagged", ""))
    code, _, err = reportgen("run", "-c", config, "--version-from-tag")
    assert code == 2 and "HEAD has no git tag" in err and "--version" in err
