"""Rendering into the site archive: version files, assets, refusals, changes since the previous version,
render --all, how the site's files are written."""

from __future__ import annotations

import copy
import html
import json
import os
import re
import stat
from importlib import resources
from pathlib import Path

import pytest
import yaml
from documents import write
from report_helpers import DATA, ROOT, as_version, file_tree, page_section, page_text, site_tree, version

from reportgen import files
from reportgen.errors import ReportgenError, ResultsError
from reportgen.release import archive
from reportgen.report import render as site
from reportgen.report.locale import fmt_ms
from reportgen.results import document as results_module


@pytest.fixture
def results(v1) -> dict:
    return v1  # results_v1.json upgraded to the current schema, as every reader gets it


def test_build_writes_version_files_and_one_copy_of_the_assets(demo, tmp_path):
    page = archive.build_site(tmp_path / "site", demo, "version: 0.1.0\n")
    folder = tmp_path / "site" / demo["version"]
    assert page == folder / "index.html"
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml", "index.html", "results.json"]
    text = (folder / "results.json").read_text(encoding="utf-8")
    assert json.loads(text) == demo and text.endswith("}\n")
    assert text == json.dumps(demo, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert (folder / "config.yaml").read_text() == "version: 0.1.0\n"
    assets = tmp_path / "site" / "assets"
    bundle = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    assert (assets / "plotly.min.js").read_bytes() == bundle
    assert sorted(p.name for p in assets.iterdir()) == ["charts.js", "plotly.min.js", "style.css"]
    assert (assets / "style.css").read_bytes() == (ROOT / "templates/assets/style.css").read_bytes()
    html_text = page.read_text(encoding="utf-8")
    assert 'href="../assets/style.css"' in html_text and 'src="../assets/plotly.min.js"' in html_text
    assert "//cdn" not in html_text.lower() and "<style" not in html_text
    assert len(page.read_bytes()) < 300_000  # the report page, pictures included, without the bundle
    assert [p.name for p in (tmp_path / "site").iterdir() if p.name.startswith(".")] == []


def test_locale_option_renders_and_archives_the_language(demo, tmp_path):
    page = archive.build_site(tmp_path / "site", demo, None, locale="ko").read_text(encoding="utf-8")
    assert '<html lang="ko">' in page
    archived = json.loads((tmp_path / "site" / demo["version"] / "results.json").read_text(encoding="utf-8"))
    assert archived["locale"] == "ko"
    archive.rebuild_pages(tmp_path / "site")  # render --all keeps the language
    assert '<html lang="ko">' in (tmp_path / "site" / demo["version"] / "index.html").read_text(
        encoding="utf-8"
    )
    with pytest.raises(ReportgenError, match="unknown locale"):
        archive.build_site(tmp_path / "other", demo, None, locale="fr")
    assert not (tmp_path / "other").exists()


def test_without_config_there_is_no_config_link(demo, tmp_path):
    page = archive.build_site(tmp_path / "site", demo, None).read_text(encoding="utf-8")
    assert not (tmp_path / "site" / demo["version"] / "config.yaml").exists()
    assert 'href="config.yaml"' not in page and 'href="results.json"' in page
    assert (
        yaml.safe_load(
            html.unescape(re.search(r'<pre class="config"><code>(.*?)</code>', page, re.S).group(1))
        )
        == demo["config"]
    )


def test_same_results_give_the_same_bytes(demo, tmp_path):
    archive.build_site(tmp_path / "a", demo, "x: 1\n")
    archive.build_site(tmp_path / "b", demo, "x: 1\n")
    assert file_tree(tmp_path / "a") == file_tree(tmp_path / "b")
    assert site.render_report(demo) == site.render_report(copy.deepcopy(demo))


def test_existing_version_is_refused_without_force(demo, tmp_path):
    archive.build_site(tmp_path / "site", demo, "a: 1\n")
    before = file_tree(tmp_path / "site")
    changed = copy.deepcopy(demo)
    changed["title"] = "Changed title"
    with pytest.raises(ReportgenError) as info:
        archive.build_site(tmp_path / "site", changed, "a: 2\n")
    message = str(info.value)
    assert demo["version"] in message and "--force" in message and "\n" not in message
    assert file_tree(tmp_path / "site") == before
    with pytest.raises(ReportgenError, match="--force"):
        archive.ensure_version_free(tmp_path / "site", demo["version"])
    archive.build_site(tmp_path / "site", changed, "a: 2\n", force=True)
    folder = tmp_path / "site" / demo["version"]
    assert "Changed title" in (folder / "index.html").read_text(encoding="utf-8")
    assert (folder / "config.yaml").read_text() == "a: 2\n"
    assert [p.name for p in (tmp_path / "site").iterdir() if p.name.startswith(".")] == []


def test_a_crash_never_leaves_a_half_written_version(demo, tmp_path, monkeypatch):
    def boom(_results):
        raise OSError("disk full")

    monkeypatch.setattr(archive, "dumps", boom)
    with pytest.raises(OSError, match="disk full"):
        archive.build_site(tmp_path / "site", demo, None)
    assert list((tmp_path / "site").iterdir()) == []


def test_version_must_be_a_folder_name(demo, tmp_path):
    for bad in ("../evil", "a/b", "assets", ".hidden", ""):
        doc = copy.deepcopy(demo)
        doc["version"] = bad
        with pytest.raises(ResultsError, match=r"^r\.json: version: expected a label of letters") as info:
            archive.build_site(tmp_path / "site", doc, None, source="r.json")
        assert info.value.exit_code == 2
    assert not (tmp_path / "site").exists()


def test_changes_since_the_previous_version(demo, tmp_path):
    archive.build_site(tmp_path / "site", as_version(demo, "0.1.0", "2026-11-28T05:40:00Z"), None)
    archive.build_site(tmp_path / "site", as_version(demo, "0.3.0", "2026-12-09T00:00:00Z"), None)
    middle = as_version(demo, "0.2.0", "2026-12-01T00:00:00Z", latency_factor=1.25)
    middle["backend_order"].remove("ort-basic")
    del middle["backends"]["ort-basic"]
    page = archive.build_site(tmp_path / "site", middle, None).read_text(encoding="utf-8")
    changes = page_section(page, "changes")
    assert "against the previous archived version, 0.1.0" in page_text(changes) and "0.3.0" not in changes
    assert 'href="../0.1.0/index.html"' in changes and "No longer measured: ort-basic." in page_text(changes)
    row = page_text(re.search(r'<tr data-backend="onnxruntime">(.*?)</tr>', changes, re.S).group(1))
    old_ms = demo["backends"]["onnxruntime"]["latency_ms"]["median"]
    assert f"{fmt_ms(old_ms)} → {fmt_ms(old_ms * 1.25)} +25.0% worse" in row
    assert "same" not in row.split("worse")[0]
    first = (tmp_path / "site" / "0.1.0" / "index.html").read_text(encoding="utf-8")
    assert "This is the first version in the archive" in first


def test_rebuild_pages_rerenders_every_version(demo, tmp_path):
    archive.build_site(tmp_path / "site", as_version(demo, "0.1.0", "2026-11-28T05:40:00Z"), None)
    archive.build_site(tmp_path / "site", as_version(demo, "0.2.0", "2026-12-01T00:00:00Z"), None)
    before = file_tree(tmp_path / "site")
    (tmp_path / "site" / "0.1.0" / "index.html").write_text("stale")
    pages_written = archive.rebuild_pages(tmp_path / "site")
    assert len(pages_written) == 2 and file_tree(tmp_path / "site") == before


# --- render --all ---------------------------------------------------------------------------------


def test_render_all_rerenders_every_version_with_todays_templates(results, tmp_path, reportgen):
    for label, day in (("0.1.0", 1), ("0.2.0", 2), ("0.3.0", 3)):
        archive.build_site(tmp_path / "site", version(results, label, day), "a: 1\n")
    fresh = site_tree(tmp_path / "site")
    for label in ("0.1.0", "0.2.0", "0.3.0"):  # pages from an older template
        (tmp_path / "site" / label / "index.html").write_text("<html>old template</html>")
    (tmp_path / "site" / "index.html").write_text("<html>old index</html>")
    code, _, err = reportgen("render", "--all", "--site-dir", tmp_path / "site")
    assert code == 0, err
    assert err.count("report: ") == 3
    assert site_tree(tmp_path / "site") == fresh


def test_render_all_upgrades_older_schemas_in_memory_and_refuses_newer(results, tmp_path, reportgen):
    archive.build_site(tmp_path / "site", version(results, "0.1.0", 1), None)
    archive.build_site(tmp_path / "site", version(results, "0.2.0", 2), None)
    # 0.1.0 as an older reportgen archived it: a schema-1 file (no robust CV, an old config key).
    old = json.loads((DATA / "results_v1.json").read_text(encoding="utf-8"))
    assert old["schema_version"] == 1
    write(tmp_path / "site" / "0.1.0" / "results.json", {**old, "version": "0.1.0"})
    archived = site_tree(tmp_path / "site")
    assert reportgen("render", "--all", "--site-dir", tmp_path / "site")[0] == 0
    for name in ("0.1.0/results.json", "0.2.0/results.json"):
        assert site_tree(tmp_path / "site")[name] == archived[name]  # the archived data is never rewritten
    assert b"0.1.0" in site_tree(tmp_path / "site")["0.1.0/index.html"]

    write(tmp_path / "site" / "0.2.0" / "results.json", {**version(results, "0.2.0", 2), "schema_version": 9})
    code, _, err = reportgen("render", "--all", "--site-dir", tmp_path / "site")
    assert code == 2
    assert err.strip() == (
        f"error: {tmp_path / 'site' / '0.2.0' / 'results.json'}: schema_version: 9 is newer than this "
        f"reportgen understands ({results_module.SCHEMA_VERSION}); upgrade reportgen"
    )


def test_render_needs_files_or_all_but_not_both(results, tmp_path, reportgen):
    doc = write(tmp_path / "r.json", results)
    assert reportgen("render", "--site-dir", tmp_path / "site")[0] == 2
    assert reportgen("render", doc, "--all", "--site-dir", tmp_path / "site")[0] == 2
    code, _, err = reportgen("render", "--all", "--site-dir", tmp_path / "site")
    assert code == 1 and err.strip() == (
        f"error: {tmp_path / 'site'}: no archived versions to re-render (no <version>/results.json)"
    )
    assert not (tmp_path / "site").exists()


def test_render_locale_renders_and_archives_the_language(results, tmp_path, reportgen):
    doc = write(tmp_path / "r.json", version(results, "0.1.0", 1))
    code, _, err = reportgen("render", doc, "--site-dir", tmp_path / "site", "--locale", "ko")
    assert code == 0, err
    page = (tmp_path / "site" / "0.1.0" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ko">' in page and "판정" in page
    archived = json.loads((tmp_path / "site" / "0.1.0" / "results.json").read_text(encoding="utf-8"))
    assert archived["locale"] == "ko" and results["locale"] == "en"
    assert reportgen("render", "--all", "--site-dir", tmp_path / "site")[0] == 0  # stays Korean
    assert '<html lang="ko">' in (tmp_path / "site" / "0.1.0" / "index.html").read_text(encoding="utf-8")
    code, _, err = reportgen("render", doc, "--site-dir", tmp_path / "other", "--locale", "fr")
    assert code == 2 and "'fr' is not one of 'en', 'ko'" in err
    code, _, err = reportgen("render", "--all", "--site-dir", tmp_path / "site", "--locale", "en")
    assert code == 2 and "drop --merge and --locale" in err
    assert not (tmp_path / "other").exists()


# --- how the site's files are written ----------------------------------------------------------------


def test_every_file_of_the_site_is_written_whole_fsynced_and_readable(demo, tmp_path, monkeypatch):
    synced: list[str] = []
    fsync = os.fsync
    monkeypatch.setattr(
        os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), fsync(fd))
    )
    previous = os.umask(0o022)
    try:
        archive.build_site(tmp_path / "site", demo, "a: 1\n")
    finally:
        os.umask(previous)
    written = [p for p in (tmp_path / "site").rglob("*") if p.is_file()]
    assert len(written) == 7  # 3 version files, 3 assets, the index
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    # Each file's data was flushed under its temporary name, then the folder that names it.
    site_dir = tmp_path / "site"
    for path in written:
        temporary = [s for s in synced if Path(s).name.startswith(f".{path.name}@") and s.endswith(".tmp")]
        assert temporary, path
    assert {str(site_dir), str(site_dir / "assets")} <= set(synced)
    assert any(Path(s).name.startswith(f".{demo['version']}.building-") for s in synced)  # the staging folder


def test_write_atomic_keeps_the_old_file_on_failure_and_respects_the_umask(tmp_path, monkeypatch):
    target = tmp_path / "new" / "page.html"
    files.write_atomic(target, "первый")  # text is written as UTF-8; missing folders are made
    assert target.read_bytes() == "первый".encode()
    previous = os.umask(0o077)
    try:
        files.write_atomic(target, b"second")
    finally:
        os.umask(previous)
    assert target.read_bytes() == b"second" and stat.S_IMODE(target.stat().st_mode) == 0o600

    def broken(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        files.write_atomic(target, b"third")
    assert target.read_bytes() == b"second" and sorted(p.name for p in target.parent.iterdir()) == [
        "page.html"
    ]
