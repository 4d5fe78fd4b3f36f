"""Number and date formats, the catalogs, and pages in each language (tests/data/results_demo.json)."""

from __future__ import annotations

import copy
import re
from datetime import datetime

import pytest
import yaml
from report_helpers import ROOT, as_version, classification, page_text, semantic, sequences, with_batches

from reportgen.analysis import rules
from reportgen.analysis.assess import BADGE_CODES
from reportgen.analysis.finding import PARTS, finding, speedup_of
from reportgen.analysis.variants import CAUSES, VARIANTS
from reportgen.analysis.vocabulary import FILLED
from reportgen.config.backends import KINDS
from reportgen.errors import ReportgenError
from reportgen.report import locale as locale_module
from reportgen.report import render as site
from reportgen.report.locale import (
    LOCALES,
    Locale,
    fmt_mb,
    fmt_ms,
    fmt_num,
    fmt_pct,
    fmt_rate,
    fmt_ratio,
    fmt_sci,
    get_locale,
    load_catalog,
    placeholders,
)
from reportgen.report.time_view import FAMILY_ORDER
from reportgen.results import merge
from reportgen.results.document import is_merged

# The modules that turn a results document into page text.
MODULES = (
    "report/charts.py",
    "analysis/verdicts.py",
    "report/cells.py",
    "report/trends.py",
    "report/locale.py",
    "results/merge.py",
    "report/narrative.py",
    "report/pages.py",
    "report/quality.py",
    "report/render.py",
    "report/time_view.py",
)


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


def test_numbers_and_dates_are_written_the_locales_way(monkeypatch):
    from datetime import datetime, timezone

    moment = datetime(2026, 11, 28, 5, 42, tzinfo=timezone.utc)
    assert get_locale("en").date(moment) == "28 November 2026, 05:42 UTC"
    assert get_locale("ko").date(moment) == "2026년 11월 28일 05:42 UTC"
    assert get_locale("ko").ratio(3.3222) == "3.32배"
    # The separators come from the catalog: a locale writing 1.234,5 needs no code change.
    german = {**load_catalog("en"), "format.decimal": ",", "format.group": ".", "format.percent": "{value} %"}
    monkeypatch.setattr(locale_module, "load_catalog", lambda code: german)
    loc = Locale("en")
    assert (loc.num(1234.5), loc.num(0.9512), loc.ms(1234.567), loc.pct(0.123)) == (
        "1.234",
        "0,9512",
        "1.234,57 ms",
        "+12,3 %",
    )
    assert loc.num(3011043) == "3.011.043" and loc.sci(3.1e-6) == "3,1e-06"


def test_korean_page_speaks_korean(demo):
    doc = copy.deepcopy(demo)
    doc["locale"] = "ko"
    page = site.render_report(doc)
    assert '<html lang="ko">' in page
    headings = [page_text(h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page, re.S)]
    assert headings[:4] == ["판정", "핵심 비교", "주요 발견사항", "감지 품질과 출력 일치"]
    assert all(re.search(r"[\uac00-\ud7a3]", h) for h in headings)
    ko = get_locale("ko")
    created = datetime.fromisoformat(demo["created_at"].replace("Z", "+00:00"))
    speedup = ko.ratio(speedup_of(demo, "onnxruntime").value)
    assert " ".join(ko.date(created).split(" ")[:3]) in page and f"{speedup} 빠름" in page
    assert site.render_report(demo, locale="ko") == page  # the --locale override


def test_unknown_locale_is_refused(demo):
    doc = copy.deepcopy(demo)
    doc["locale"] = "fr"
    with pytest.raises(ReportgenError, match="unknown locale 'fr'"):
        site.render_report(doc)


def test_locales_folder_holds_only_catalogs():
    for path in (ROOT / "templates" / "locales").iterdir():
        assert path.suffix == ".yaml" and path.stem in LOCALES
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict)


def _render_with_recorded_keys(monkeypatch, documents: list[dict]) -> set[str]:
    """Render every page kind of these documents in every locale; return the message keys used."""
    used: set[str] = set()
    original = locale_module.Locale.t

    def recording(self, key: str, **values: object) -> str:
        used.add(key)
        return original(self, key, **values)

    monkeypatch.setattr(locale_module.Locale, "t", recording)
    for code in LOCALES:
        for doc in documents:
            doc = {**doc, "locale": code}
            previous = None if is_merged(doc) else as_version(doc, "0.0.1", "2020-01-01T00:00:00Z", 1.3)
            site.render_report(doc, previous)
        site.render_index([{**d, "locale": code} for d in documents])
    return used


def test_every_message_key_exists_in_every_catalog_and_is_used(monkeypatch, demo, v1):
    failed, ref_failed = copy.deepcopy(demo), copy.deepcopy(demo)
    failed["backends"]["onnxruntime"].update(status="failed", error="boom")
    failed["backends"]["ort-basic"].update(status="unavailable", error="no GPU here")
    ref_failed["backends"]["pytorch"].update(status="failed", error="boom")
    raw = classification(demo)
    raw["model"]["task"] = "raw"
    raw["dataset"] = {"source": "random", "seed": 1, "images": 8, "shape": [1, 3], "labelled": False}
    for b in raw["backends"].values():
        if b["parity"]:
            b["parity"] = {k: v for k, v in b["parity"].items() if "top" not in k}
    single = copy.deepcopy(demo)
    single["backend_order"] = ["pytorch"]
    single["backends"] = {"pytorch": single["backends"]["pytorch"]}
    slow = as_version(demo, "0.0.2", "2020-01-02T00:00:00Z", 100.0)
    detection = copy.deepcopy(demo)
    detection["model"]["task"] = "detection"
    other = copy.deepcopy(demo)
    other["environment"]["cpu"] = "AMD EPYC 7763"
    merged = merge.merge([("a", demo), ("b", other)])  # a page with a section per machine
    batches = with_batches(demo)  # batch sizes: one unsupported by its file, one not measured
    documents = [
        demo,
        v1,
        failed,
        ref_failed,
        classification(demo),
        raw,
        single,
        slow,
        detection,
        merged,
        batches,
        sequences(demo),  # a token classifier: sequences, no top-5 (issue 21)
        {
            **sequences(demo),
            "dataset": {"source": "text", "images": 8, "path": "lines.txt", "labelled": False},
        },
        semantic(demo),  # per-pixel classes: mIoU, pixel agreement
        semantic(demo, labelled=False),  # the share of pixels per class
        {**demo, "model": {**demo["model"], "task": "set_detection"}},  # DETR-style: the same words
    ]
    used = _render_with_recorded_keys(monkeypatch, documents)
    english = load_catalog("en")
    # Keys a document may need that these renders do not reach (a unit test of each follows).
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "templates").glob("*.html"))
    sources += "".join((ROOT / "reportgen" / m).read_text() for m in MODULES)
    literal = {k for k in english if f'"{k}"' in sources or f"'{k}'" in sources}
    # Verdict parts are named by code (analysis/assess.py); each has a sentence, a badge and a count.
    codes = set(BADGE_CODES)
    families = {f"{prefix}.{code}" for prefix in ("verdict", "badge") for code in codes}
    families |= {f"index.count.{code}" for code in codes if not code.startswith("size.")}  # answers, speed
    assert families <= set(english), sorted(families - set(english))
    conclusions = {
        f"conclusion.{c}" for c in codes if c.startswith("answers.") or c in ("failed", "unavailable")
    }
    assert conclusions <= set(english), sorted(conclusions - set(english))
    literal |= families | conclusions
    literal |= {"examples.reason.agreement", "examples.reason.disagreement"}  # examples.py's reasons
    # Where the time goes names an op family and a backend kind by code (report/time_view.py, _time.html).
    time_keys = {f"time.family.{f}" for f in FAMILY_ORDER} | {f"time.outside_why.{k}" for k in KINDS}
    assert time_keys <= set(english), sorted(time_keys - set(english))
    literal |= time_keys
    rule_texts = {k for k in english if k.startswith(("rule.", "cause."))}  # checked against the registry
    for code in LOCALES:
        catalog = load_catalog(code)
        assert used <= set(catalog), f"{code}: missing {sorted(used - set(catalog))}"
        assert set(catalog) == set(english), f"{code}: keys differ from en"
        for key, message in catalog.items():
            assert placeholders(message) == placeholders(english[key]), f"{code}: {key}"
    unused = set(english) - used - literal - rule_texts
    assert not unused, sorted(unused)
    for f in rules.findings(demo):
        assert f"rule.{f['key']}.title" in english


def test_the_catalogs_hold_the_texts_of_every_declared_finding_and_no_other():
    # Checked against the registry (analysis/variants.py), not by reading the rules' source.
    for code in LOCALES:
        catalog = load_catalog(code)
        texts = {k for k in catalog if k.startswith("rule.")}
        for key, variant in VARIANTS.items():
            assert f"rule.{key}.title" in catalog, f"{code}: {key} has no title"
            for part in PARTS:
                message = catalog.get(f"rule.{key}.{part}")
                if message is not None:  # a text may name only the params its rule passes
                    nouns = FILLED if "item" in variant.params else set()  # vocabulary.fill adds them
                    assert placeholders(message) <= variant.params | nouns, f"{code}: rule.{key}.{part}"
        declared = {f"rule.{key}.{part}" for key in VARIANTS for part in PARTS}
        assert texts <= declared, f"{code}: texts of undeclared findings {sorted(texts - declared)}"


def test_the_catalogs_hold_the_text_of_every_declared_cause_and_no_other():
    for code in LOCALES:
        catalog = load_catalog(code)
        for key, params in CAUSES.items():
            assert key in catalog, f"{code}: {key} has no text"
            assert placeholders(catalog[key]) <= params, f"{code}: {key}"  # as for the rules
        texts = {k for k in catalog if k.startswith("cause.")}
        assert texts == set(CAUSES), f"{code}: texts of undeclared causes {sorted(texts - set(CAUSES))}"


def test_a_finding_outside_its_declaration_is_refused():
    with pytest.raises(ValueError, match="not declared"):
        finding("speed.latency/warp", "pass", None)
    with pytest.raises(ValueError, match="declared"):
        finding("recommend.keep", "fail", None, ref="pytorch")  # declared info
    with pytest.raises(ValueError, match="declared"):
        finding("recommend.keep", "info", None, reference="pytorch")  # declared param: ref
