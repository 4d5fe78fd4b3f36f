"""Render tests for the site stage.

tests/data/results_v1.json is HAND-WRITTEN (plausible numbers, internally consistent, schema v1); it is not
the output of a real run. The tests compute what they expect from the document itself, so the file can be
replaced by a real demo run.
"""

from __future__ import annotations

import copy
import html
import json
import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from reportgen import site
from reportgen.errors import ReportgenError
from reportgen.locale import (
    LOCALES,
    fmt_mb,
    fmt_ms,
    fmt_num,
    fmt_pct,
    fmt_rate,
    fmt_ratio,
    fmt_sci,
    load_catalog,
    placeholders,
)

DATA = Path(__file__).parent / "data" / "results_v1.json"
ROOT = Path(__file__).resolve().parent.parent
EVIL = "<script>alert(1)</script>"


@pytest.fixture
def results() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def _candidate(results: dict) -> str:
    return next(n for n in results["backend_order"] if n != results["reference"])


def _version(results: dict, version: str, created_at: str, latency_factor: float = 1.0) -> dict:
    """Return a copy of the results as another version, with the candidate's latency scaled."""
    other = copy.deepcopy(results)
    other["version"], other["created_at"] = version, created_at
    b = other["backends"][_candidate(other)]
    b["latency_ms"] = {
        k: (v * latency_factor if k not in ("n", "cv") else v)
        for k, v in b["latency_ms"].items()
        if k != "samples"
    } | {"samples": [s * latency_factor for s in b["latency_ms"]["samples"]]}
    b["fps"] = 1000 / b["latency_ms"]["median"]
    b["speedup"] = other["backends"][other["reference"]]["latency_ms"]["median"] / b["latency_ms"]["median"]
    b["speedup_interval"] = None
    return other


def _row(page: str, metric: str) -> list[str]:
    """Return the texts of the headline table row of one metric."""
    match = re.search(rf'<tr data-metric="{metric}">(.*?)</tr>', page, re.S)
    assert match, f"no headline row {metric}"
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", match.group(1), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]


# --- formatting -----------------------------------------------------------------------------------


def test_number_filters_format_in_one_place():
    assert fmt_ms(12.3449) == "12.34 ms"
    assert fmt_mb(110.44) == "110.4 MB"
    assert fmt_pct(0.123) == "+12.3%"
    assert fmt_pct(-0.5) == "-50.0%"
    assert fmt_pct(0.00001) == "0.0%"
    assert fmt_ratio(2.013) == "2.01×"
    assert fmt_sci(3.1e-6) == "3.1e-06"
    assert fmt_rate(1.0) == "100.0%"
    assert [fmt_num(x) for x in (3011043, 1234.5, 153.84, 13.0, 0.95123, 0.0000031)] == [
        "3,011,043",
        "1,234",
        "153.8",
        "13.00",
        "0.9512",
        "3.1e-06",
    ]
    for fmt in (fmt_ms, fmt_mb, fmt_pct, fmt_ratio, fmt_sci, fmt_rate, fmt_num):
        assert fmt(None) == "—"
        assert fmt(float("nan")) == "—"


# --- the report page ------------------------------------------------------------------------------


def test_headline_table_shows_both_backends_with_formatted_numbers(results):
    page = site.render_report(results)
    ref, cand = results["reference"], _candidate(results)
    r, c = results["backends"][ref], results["backends"][cand]
    head = re.search(r'<table class="headline">.*?</thead>', page, re.S).group(0)
    assert ref in head and cand in head
    assert _row(page, "latency_median")[:4] == [
        "Median latency",
        fmt_ms(r["latency_ms"]["median"]),
        fmt_ms(c["latency_ms"]["median"]),
        fmt_pct(c["latency_ms"]["median"] / r["latency_ms"]["median"] - 1),
    ]
    assert _row(page, "fps")[1:3] == [fmt_num(r["fps"]), fmt_num(c["fps"])]
    assert _row(page, "memory_peak")[1:3] == [fmt_mb(r["memory_mb"]["peak"]), fmt_mb(c["memory_mb"]["peak"])]
    assert _row(page, "file_size")[1:3] == [fmt_mb(r["file_size_mb"]), fmt_mb(c["file_size_mb"])]
    assert _row(page, "map50")[1:3] == [fmt_num(r["metrics"]["map50"]), fmt_num(c["metrics"]["map50"])]
    for metric in ("detections_per_image", "mean_confidence", "detection_rate", "map50_95", "mask_map50"):
        assert len(_row(page, metric)) == 5
    # Sections in the seed's order, then the additions.
    ids = [
        "verdict",
        "headline",
        "findings",
        "quality",
        "speed",
        "memory",
        "size",
        "causes",
        "recommendations",
        "conclusion",
        "changes",
        "appendix",
    ]
    positions = [page.index(f'<section id="{i}"') for i in ids]
    assert positions == sorted(positions)


def test_change_column_knows_which_direction_is_better(results):
    cand = _candidate(results)
    faster = copy.deepcopy(results)
    b = faster["backends"][cand]
    b["speedup"], b["speedup_interval"] = 2.0, [1.9, 2.1]
    page = site.render_report(faster)
    assert _row(page, "latency_median")[3].startswith("-") and _row(page, "latency_median")[4] == "better"
    assert _row(page, "fps")[3].startswith("+") and _row(page, "fps")[4] == "better"

    slower = _version(results, "slow", results["created_at"], latency_factor=4.0)
    slower["backends"][cand]["speedup_interval"] = [0.45, 0.55]
    page = site.render_report(slower)
    assert _row(page, "latency_median")[3].startswith("+") and _row(page, "latency_median")[4] == "worse"
    assert _row(page, "fps")[3].startswith("-") and _row(page, "fps")[4] == "worse"
    assert "badge-warn" in re.search(r'<tr data-metric="fps">.*?</tr>', page, re.S).group(0)

    noisy = copy.deepcopy(results)
    noisy["backends"][cand]["speedup_interval"] = [0.97, 1.05]
    assert _row(site.render_report(noisy), "latency_median")[4] == "within noise"


def test_memory_and_size_lower_is_better_and_precision_is_named(results):
    cand, ref = _candidate(results), results["reference"]
    doc = copy.deepcopy(results)
    doc["backends"][cand]["memory_mb"]["peak"] = doc["backends"][ref]["memory_mb"]["peak"] * 2
    doc["backends"][cand]["file_size_mb"] = doc["backends"][ref]["file_size_mb"] * 2
    doc["backends"][cand]["weight_dtype"] = "float32"
    doc["backends"][ref]["weight_dtype"] = "float16"
    page = site.render_report(doc)
    assert _row(page, "memory_peak")[3:] == ["+100.0%", "worse"]
    assert _row(page, "file_size")[3:] == ["+100.0%", "different precision"]
    assert "float16 (2 bytes per value)" in page  # the FP16 vs FP32 sentence, only when the data show it
    doc["backends"][ref]["weight_dtype"] = "float32"
    page = site.render_report(doc)
    assert _row(page, "file_size")[3:] == ["+100.0%", "worse"]
    assert "float16 (2 bytes per value)" not in page


def test_user_text_is_escaped(results):
    doc = copy.deepcopy(results)
    doc["model"]["name"] = f"demo {EVIL}"
    doc["findings"][0]["title"] = EVIL
    doc["findings"][0]["evidence"] = EVIL
    doc["environment"]["cpu"] = EVIL
    doc["examples"][0]["reason"] = EVIL
    for page in (site.render_report(doc), site.render_index([doc])):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert" not in page.lower()


def test_failed_backend_shows_status_and_error(results, tmp_path):
    cand = _candidate(results)
    doc = copy.deepcopy(results)
    error = "ONNXRuntimeError: INVALID_GRAPH : Load model failed"
    b = doc["backends"][cand]
    for key in list(b):
        if key not in ("kind", "threads", "settings"):
            b[key] = None
    b["status"], b["error"] = "failed", error
    doc["model"]["onnx"].update(status="failed", error="export failed: Split opset 17")
    page = site.render_report(doc)
    assert page.count(error) >= 3  # verdict, tables, conclusion
    assert "export failed: Split opset 17" in page
    assert _row(page, "latency_median")[2:] == ["failed", "—", "not comparable"]
    assert "badge-fail" in page
    index = site.build_site(tmp_path / "site", doc, None).parent.parent / "index.html"
    assert "differs or failed" in index.read_text(encoding="utf-8")


def test_failed_reference_renders(results):
    doc = copy.deepcopy(results)
    ref = doc["backends"][doc["reference"]]
    for key in ("latency_ms", "fps", "memory_mb", "metrics", "load_ms", "first_inference_ms", "warmup_ms"):
        ref[key] = None
    ref["status"], ref["error"] = "failed", "RuntimeError: out of memory"
    page = site.render_report(doc)
    assert "RuntimeError: out of memory" in page
    assert "cannot be compared" in page


def test_korean_catalog_renders(results):
    doc = copy.deepcopy(results)
    doc["locale"] = "ko"
    page = site.render_report(doc)
    assert '<html lang="ko">' in page
    assert "핵심 비교" in page and "주요 발견사항" in page


def test_unknown_locale_is_refused(results):
    doc = copy.deepcopy(results)
    doc["locale"] = "fr"
    with pytest.raises(ReportgenError, match="unknown locale 'fr'"):
        site.render_report(doc)


def test_every_message_key_exists_in_every_catalog():
    used = set()
    for path in (ROOT / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
    for module in ("site.py", "charts.py"):
        used |= set(re.findall(r'\b(?:tr|t)\(\s*"([\w.]+)"', (ROOT / "reportgen" / module).read_text()))
    used |= {m.label for m in (*site.HEADLINE, *site.CHANGES)}
    assert len(used) > 150
    english = load_catalog("en")
    # Findings texts: every "rule.key" literal in analysis.py owns rule.<key>.title and its other parts.
    rule_keys = set(
        re.findall(r'"([a-z]+\.[a-z_]+(?:/[a-z0-9_]+)?)"', (ROOT / "reportgen" / "analysis.py").read_text())
    )
    rule_keys = {k for k in rule_keys if f"rule.{k}.title" in english}
    assert len(rule_keys) > 30
    used |= {key for key in english if key.startswith("rule.") and key.rsplit(".", 1)[0][5:] in rule_keys}
    for locale in LOCALES:
        catalog = load_catalog(locale)
        assert used <= set(catalog), f"{locale}: missing {sorted(used - set(catalog))}"
        assert set(catalog) == set(english), f"{locale}: keys differ from en"
        for key, message in catalog.items():
            assert placeholders(message) == placeholders(english[key]), f"{locale}: {key}"
    # Nothing in a catalog goes unused (it would drift out of date unseen).
    assert set(english) == used, sorted(set(english) - used)


def test_charts_are_embedded_as_json_data(results):
    page = site.render_report(results)
    scripts = re.findall(
        r'<script type="application/json" id="([\w-]+)-data"[^>]*>(.*?)</script>', page, re.S
    )
    assert {name for name, _ in scripts} == {"chart-latency", "chart-fps", "chart-memory", "chart-size"}
    for name, text in scripts:
        figure = json.loads(text)
        assert figure["data"] and figure["layout"]["title"]["text"]
        assert figure["layout"]["yaxis"]["title"]["text"].endswith(")")  # a unit in parentheses
        assert f'<div class="chart" id="{name}"' in page
    latency = json.loads(dict(scripts)["chart-latency"])
    assert [t["y"] for t in latency["data"]] == [
        results["backends"][n]["latency_ms"]["samples"] for n in results["backend_order"]
    ]
    assert "onclick" not in page.lower() and "javascript:" not in page.lower()


# --- the archive ----------------------------------------------------------------------------------


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_writes_version_files_and_assets(results, tmp_path):
    page = site.build_site(tmp_path / "site", results, "version: 0.1.0\n")
    folder = tmp_path / "site" / results["version"]
    assert page == folder / "index.html"
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml", "index.html", "results.json"]
    text = (folder / "results.json").read_text(encoding="utf-8")
    assert json.loads(text) == results and text.endswith("}\n")
    assert text == json.dumps(results, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert (folder / "config.yaml").read_text() == "version: 0.1.0\n"
    assets = tmp_path / "site" / "assets"
    bundle = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    assert (assets / "plotly.min.js").read_bytes() == bundle
    assert (assets / "style.css").read_bytes() == (ROOT / "templates/assets/style.css").read_bytes()
    assert (assets / "charts.js").read_bytes() == (ROOT / "templates/assets/charts.js").read_bytes()
    assert 'href="../assets/style.css"' in page.read_text(encoding="utf-8")
    assert 'src="../assets/plotly.min.js"' in page.read_text(encoding="utf-8")
    assert [p.name for p in (tmp_path / "site").iterdir() if p.name.startswith(".")] == []


def test_without_config_there_is_no_config_link(results, tmp_path):
    page = site.build_site(tmp_path / "site", results, None).read_text(encoding="utf-8")
    assert not (tmp_path / "site" / results["version"] / "config.yaml").exists()
    assert 'href="config.yaml"' not in page and 'href="results.json"' in page


def test_same_results_give_the_same_bytes(results, tmp_path):
    site.build_site(tmp_path / "a", results, "x: 1\n")
    site.build_site(tmp_path / "b", results, "x: 1\n")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert site.render_report(results) == site.render_report(copy.deepcopy(results))


def test_existing_version_is_refused_without_force(results, tmp_path):
    site.build_site(tmp_path / "site", results, "a: 1\n")
    before = _tree(tmp_path / "site")
    changed = copy.deepcopy(results)
    changed["title"] = "Changed title"
    with pytest.raises(ReportgenError) as info:
        site.build_site(tmp_path / "site", changed, "a: 2\n")
    message = str(info.value)
    assert results["version"] in message and "--force" in message and "\n" not in message
    assert _tree(tmp_path / "site") == before
    with pytest.raises(ReportgenError, match="--force"):
        site.ensure_version_free(tmp_path / "site", results["version"])
    site.build_site(tmp_path / "site", changed, "a: 2\n", force=True)
    folder = tmp_path / "site" / results["version"]
    assert "Changed title" in (folder / "index.html").read_text(encoding="utf-8")
    assert (folder / "config.yaml").read_text() == "a: 2\n"
    assert [p.name for p in (tmp_path / "site").iterdir() if p.name.startswith(".")] == []


def test_a_crash_never_leaves_a_half_written_version(results, tmp_path, monkeypatch):
    def boom(_results):
        raise OSError("disk full")

    monkeypatch.setattr(site, "dump_results", boom)
    with pytest.raises(OSError, match="disk full"):
        site.build_site(tmp_path / "site", results, None)
    assert list((tmp_path / "site").iterdir()) == []


def test_version_must_be_a_folder_name(results, tmp_path):
    for bad in ("../evil", "a/b", "assets", ".hidden", ""):
        doc = copy.deepcopy(results)
        doc["version"] = bad
        with pytest.raises(ReportgenError, match="cannot name a folder"):
            site.build_site(tmp_path / "site", doc, None)


def test_index_lists_versions_newest_first_with_trends(results, tmp_path):
    old = _version(results, "0.1.0", "2026-11-28T05:40:00Z")
    new = _version(results, "0.2.0", "2026-12-05T10:00:00Z", latency_factor=0.8)
    site.build_site(tmp_path / "site", new, None)  # built first, yet newer by created_at
    site.build_site(tmp_path / "site", old, None)
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<tr data-version="([^"]+)">', index) == ["0.2.0", "0.1.0"]
    assert 'href="0.2.0/index.html"' in index and 'href="0.1.0/index.html"' in index
    assert 'id="chart-trend-latency"' in index and 'id="chart-trend-speedup"' in index
    assert 'href="assets/style.css"' in index
    assert site.render_index([old, new]) == site.render_index([new, old])
    single = site.render_index([old])
    assert "chart-trend" not in single and "plotly.min.js" not in single


def test_changes_since_the_previous_version(results, tmp_path):
    cand = _candidate(results)
    site.build_site(tmp_path / "site", _version(results, "0.1.0", "2026-11-28T05:40:00Z"), None)
    site.build_site(tmp_path / "site", _version(results, "0.3.0", "2026-12-09T00:00:00Z"), None)
    middle = _version(results, "0.2.0", "2026-12-01T00:00:00Z", latency_factor=1.25)
    page = site.build_site(tmp_path / "site", middle, None).read_text(encoding="utf-8")
    changes = page[page.index('<section id="changes">') : page.index('<section id="appendix">')]
    assert "From version 0.1.0 to version 0.2.0" in changes and "0.3.0" not in changes
    old_ms = results["backends"][cand]["latency_ms"]["median"]
    assert fmt_ms(old_ms) in changes and fmt_ms(old_ms * 1.25) in changes and "+25.0%" in changes
    first = (tmp_path / "site" / "0.1.0" / "index.html").read_text(encoding="utf-8")
    assert "This is the first version in the archive" in first


def test_rebuild_pages_rerenders_every_version(results, tmp_path):
    site.build_site(tmp_path / "site", _version(results, "0.1.0", "2026-11-28T05:40:00Z"), None)
    site.build_site(tmp_path / "site", _version(results, "0.2.0", "2026-12-01T00:00:00Z"), None)
    before = _tree(tmp_path / "site")
    (tmp_path / "site" / "0.1.0" / "index.html").write_text("stale")
    pages = site.rebuild_pages(tmp_path / "site")
    assert len(pages) == 2 and _tree(tmp_path / "site") == before


def test_every_url_in_the_pages_is_relative(results, tmp_path):
    site.build_site(tmp_path / "site", _version(results, "0.1.0", "2026-11-28T05:40:00Z"), "a: 1\n")
    site.build_site(tmp_path / "site", _version(results, "0.2.0", "2026-12-01T00:00:00Z"), "a: 1\n")
    pages = sorted((tmp_path / "site").rglob("*.html"))
    assert len(pages) == 3
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "http:" not in text and "https:" not in text, page
        urls = re.findall(r'\b(?:href|src)="([^"]*)"', text)
        assert urls, page
        for url in urls:
            assert url == "data:," or not re.match(r"^(/|[a-z][a-z0-9+.-]*:)", url, re.I), (page, url)
            target = url.split("#")[0]
            if target and url != "data:,":
                assert (page.parent / target).resolve().is_file(), (page, url)


def test_locales_folder_holds_only_catalogs():
    for path in (ROOT / "templates" / "locales").iterdir():
        assert path.suffix == ".yaml" and path.stem in LOCALES
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict)


def test_index_speaks_the_newest_versions_language(results):
    old = _version(results, "0.1.0", "2026-11-28T05:40:00Z")
    new = _version(results, "0.2.0", "2026-12-05T10:00:00Z")
    new["locale"] = "ko"
    index = site.render_index([old, new])
    assert '<html lang="ko">' in index
    assert index.count("결과 동일") == 2 and "same answers" not in index
