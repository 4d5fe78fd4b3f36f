"""User text is escaped, the template environment is strict, every URL in the pages is relative."""

from __future__ import annotations

import copy
import re

import pytest
from report_helpers import ESCAPED, EVIL, as_version, page_figures

from reportgen.release import archive
from reportgen.report import pages
from reportgen.report import render as site
from reportgen.report.locale import get_locale


def test_user_text_is_escaped(demo):
    doc = copy.deepcopy(demo)
    doc["model"]["name"] = f"demo {EVIL}"
    doc["title"] = None  # the default title carries the model name
    doc["environment"]["cpu"] = EVIL
    doc["backends"]["ort-basic"].update(status="failed", error=EVIL)  # through a finding's message
    doc["examples"][0]["reason"] = EVIL
    doc["examples"][0]["detections"]["pytorch"][0]["class_name"] = EVIL
    doc["config"]["title"] = EVIL
    doc["backends"]["pytorch"]["settings"]["torch"] = EVIL
    for page in (site.render_report(doc), site.render_index([doc])):
        assert ESCAPED in page
        assert "<script>alert" not in page.lower()
    # Inside the chart data too: tojson escapes <, so the browser never sees a closing tag.
    doc["backend_order"] = [f"{n}{EVIL}" if n == "torchscript" else n for n in doc["backend_order"]]
    doc["backends"][f"torchscript{EVIL}"] = doc["backends"].pop("torchscript")
    page = site.render_report(doc)
    assert "<script>alert" not in page.lower()
    names = [t["name"] for t in page_figures(page)["chart-latency"]["data"]]
    assert f"torchscript{ESCAPED}" in names  # Plotly shows entities as text, never as markup


def test_environment_is_strict_and_autoescaping():
    env = site.make_environment()
    assert env.autoescape is True
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ missing }}").render(loc=get_locale("en"))
    assert pages.HEADLINE and all(m.better in ("higher", "lower", "same") for m in pages.HEADLINE)


def test_every_url_in_the_pages_is_relative(demo, tmp_path):
    archive.build_site(tmp_path / "site", as_version(demo, "0.1.0", "2026-11-28T05:40:00Z"), "a: 1\n")
    archive.build_site(tmp_path / "site", as_version(demo, "0.2.0", "2026-12-01T00:00:00Z"), "a: 1\n")
    written = sorted((tmp_path / "site").rglob("*.html"))
    assert len(written) == 3
    for page in written:
        text = page.read_text(encoding="utf-8")
        assert "http:" not in text and "https:" not in text, page
        urls = re.findall(r'\b(?:href|src)="([^"]*)"', text)
        assert urls, page
        for url in urls:
            if url.startswith("data:"):
                assert url == "data:," or url.startswith("data:image/jpeg;base64,"), (page, url[:40])
                continue
            assert not re.match(r"^(/|[a-z][a-z0-9+.-]*:)", url, re.I), (page, url)
            target = url.split("#")[0]
            if target:
                assert (page.parent / target).resolve().is_file(), (page, url)
