"""Several machines, one version: `reportgen render --merge` (and `build --results`), the merged page,
the merged results document, the index, render --all, publish and the CI workflow that makes one.

The second machine is made from the real 8-backend demo document (tests/data/results_demo.json): another
CPU, and every latency (samples and statistics) scaled by SLOWER, so each machine's figures differ and an
average of the two would be a figure neither machine measured.
"""

from __future__ import annotations

import copy
import html
import json
import re
import subprocess
from pathlib import Path

import markupsafe
import pytest
import yaml
from documents import scale_latency, write

from reportgen.analysis import rules
from reportgen.errors import ResultsError
from reportgen.release import archive
from reportgen.report import render as site
from reportgen.report.locale import get_locale
from reportgen.results import merge
from reportgen.results.document import SCHEMA_VERSION, read_results

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent
SLOWER = 1.5
EVIL = "<script>alert(1)</script>"
EN = get_locale("en")


@pytest.fixture
def demo() -> dict:
    doc = read_results(DATA / "results_demo.json")
    # These tests name machines: pin the one and the date the demo run stands for, wherever and
    # whenever it was re-measured.
    doc["environment"]["cpu"] = "Intel(R) Xeon(R) CPU @ 2.20GHz"
    doc["created_at"] = "2026-11-28T05:40:00Z"
    return doc


def other_machine(
    results: dict, cpu: str = "AMD EPYC 7763 64-Core Processor", factor: float = SLOWER
) -> dict:
    """Return the results as measured on another CPU where every backend's latency is `factor` times."""
    doc = copy.deepcopy(results)
    doc["environment"]["cpu"] = cpu
    doc["created_at"] = "2026-11-29T08:00:00Z"
    for b in doc["backends"].values():
        if b["status"] != "ok":
            continue
        scale_latency(b, factor)
    return doc


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def articles(page: str) -> dict[str, str]:
    """Return each machine's section of a merged page by its id."""
    found = re.findall(r'<article id="([^"]+)" class="machine"(.*?)</article>', page, re.S)
    return dict(found)


def headline_latency(section: str) -> list[str]:
    """Return the texts of the latency row of a machine's headline table: reference, then candidates."""
    row = re.search(r'<tr data-metric="latency_median">(.*?)</tr>', section, re.S).group(1)
    return [_text(v) for v in re.findall(r'<span class="value">(.*?)</span>', row, re.S)]


# --- the merged page ---------------------------------------------------------------------------------


def test_two_machines_render_one_page_with_each_machines_own_numbers(demo, tmp_path, reportgen):
    slow = other_machine(demo)
    a, b = write(tmp_path / "x64.json", demo), write(tmp_path / "amd.json", slow)
    code, _, err = reportgen("render", "--merge", a, b, "--site-dir", tmp_path / "site")
    assert code == 0, err
    label_a, label_b = "intel-xeon-linux-2c", "amd-epyc-7763-linux-2c"
    assert f"(2 machines: {label_a}, {label_b})" in err
    folder = tmp_path / "site" / demo["version"]
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "results.json"]
    page = (folder / "index.html").read_text(encoding="utf-8")

    # The overview: a row per machine linking to its section, with its own recommendation.
    start = page.index('<section id="machines"')
    overview = page[start : page.index("</section>", start)]
    rows = re.findall(r'<tr data-machine="([^"]+)">(.*?)</tr>', overview, re.S)
    assert [label for label, _ in rows] == [label_a, label_b]
    for (label, cells), doc in zip(rows, (demo, slow)):
        text = _text(cells)
        assert f'href="#machine-{label}"' in cells and doc["environment"]["cpu"] in text
        assert "2 logical, 2 physical" in text and doc["environment"]["os"] in text
        advice = next(f for f in rules.findings(doc) if f["id"].startswith("recommend."))
        assert f"{advice['backend']} ({advice['params']['speedup']:.2f}× faster)" in text
        assert "close, not identical" in text

    # A section per machine, each with the verdict, headline, key findings, a chart and the appendix.
    sections = articles(page)
    assert list(sections) == [f"machine-{label_a}", f"machine-{label_b}"]
    for anchor, section in sections.items():
        for part in ("verdict", "headline", "findings", "speed", "appendix"):
            assert f'id="{anchor}-{part}"' in section, (anchor, part)
        assert f'id="{anchor}-chart-latency"' in section
    # Each machine's figures are its own: the reference's and every candidate's median latency.
    for (anchor, section), doc in zip(sections.items(), (demo, slow)):
        expected = [EN.ms(b["latency_ms"]["median"]) for _, b in _ok(doc)]
        assert headline_latency(section) == expected, anchor
        chart = json.loads(
            re.search(rf'id="{anchor}-chart-latency-data"[^>]*>(.*?)</script>', section).group(1)
        )
        assert max(chart["data"][0]["x"]) == pytest.approx(
            max(doc["backends"]["pytorch"]["latency_ms"]["samples"]), rel=1e-3
        )
    # No number is combined across machines: no average of the two medians appears anywhere.
    for _, b in _ok(demo):
        average = EN.ms(b["latency_ms"]["median"] * (1 + SLOWER) / 2)
        assert average not in _text(page), average

    # The archived results keep each machine's full document.
    archived = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert archived["machines"] == [demo, slow]
    assert archived["schema_version"] == SCHEMA_VERSION and archived["version"] == demo["version"]
    assert archived["created_at"] == slow["created_at"]  # the newest machine's


def _ok(doc: dict) -> list[tuple[str, dict]]:
    ref = doc["reference"]
    names = [ref] + [n for n in doc["backend_order"] if n != ref]
    return [(n, doc["backends"][n]) for n in names if doc["backends"][n]["status"] == "ok"]


def test_mismatched_versions_are_refused_with_exit_2(demo, tmp_path, reportgen):
    other = other_machine(demo)
    other["version"] = "0.2.0"
    a, b = write(tmp_path / "a.json", demo), write(tmp_path / "b.json", other)
    code, out, err = reportgen("render", "--merge", a, b, "--site-dir", tmp_path / "site")
    assert code == 2 and out == ""
    assert err.strip() == (
        f"error: {b}: version '0.2.0' differs from '0.1.0' of {a}; the machines of one report must "
        "share its version label"
    )
    assert not (tmp_path / "site").exists()


def test_files_of_one_version_need_merge(demo, tmp_path, reportgen):
    a, b = write(tmp_path / "a.json", demo), write(tmp_path / "b.json", other_machine(demo))
    code, _, err = reportgen("render", a, b, "--site-dir", tmp_path / "site")
    assert code == 2 and "both version 0.1.0; pass --merge" in err
    assert not (tmp_path / "site").exists()
    code, _, err = reportgen("render", "--all", "--merge", "--site-dir", tmp_path / "site")
    assert code == 2 and "drop --merge and --locale" in err


def test_build_results_is_render_merge_into_the_configs_site(demo, tmp_path, reportgen):
    a, b = write(tmp_path / "a.json", demo), write(tmp_path / "b.json", other_machine(demo))
    config = tmp_path / "config.yaml"
    config.write_text(f"site:\n  dir: {tmp_path / 'built'}\n", encoding="utf-8")
    code, _, err = reportgen("build", "-c", config, "--results", a, "--results", b, "--locale", "ko")
    assert code == 0, err
    code, _, err = reportgen("render", "--merge", a, b, "--site-dir", tmp_path / "rendered", "--locale", "ko")
    assert code == 0, err
    assert tree(tmp_path / "built") == tree(tmp_path / "rendered")
    assert '<html lang="ko">' in (tmp_path / "built" / "0.1.0" / "index.html").read_text(encoding="utf-8")
    code, _, err = reportgen("build", "-c", config, "--results", a, "--version", "9.9")
    assert code == 2 and "--results files carry their version" in err


def test_a_merged_version_can_take_another_machine(demo, tmp_path, reportgen):
    a, b = write(tmp_path / "a.json", demo), write(tmp_path / "b.json", other_machine(demo))
    assert reportgen("render", "--merge", a, b, "--site-dir", tmp_path / "site")[0] == 0
    archived = tmp_path / "site" / "0.1.0" / "results.json"
    third = write(tmp_path / "c.json", other_machine(demo, "Apple M2", 0.5))
    code, _, err = reportgen("render", "--merge", archived, third, "--site-dir", tmp_path / "site")
    assert code == 1 and "already exists" in err
    assert reportgen("render", "--merge", archived, third, "--site-dir", tmp_path / "site", "--force")[0] == 0
    labels = [label for label, _ in merge.labelled(read_results(archived))]
    assert labels == ["intel-xeon-linux-2c", "amd-epyc-7763-linux-2c", "apple-m2-linux-2c"]


# --- labels ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "label"),
    [
        (
            {
                "cpu": "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz",
                "os": "Linux-6.5.0-azure-x86_64",
                "cores_logical": 4,
            },
            "intel-xeon-platinum-8370c-linux-4c",
        ),
        (
            {"cpu": "AMD EPYC 7763 64-Core Processor", "os": "Linux-6.8", "cores_logical": 4},
            "amd-epyc-7763-linux-4c",
        ),
        ({"cpu": "aarch64", "os": "Linux-6.8.0-1017-aws-aarch64", "cores_logical": 4}, "aarch64-linux-4c"),
        (
            {"cpu": "Apple M1 Pro", "os": "macOS-14.2-arm64-arm-64bit", "cores_logical": 10},
            "apple-m1-pro-macos-10c",
        ),
        ({"cpu": "../../etc/passwd", "os": "Windows-10", "cores_logical": 8}, "etc-passwd-windows-8c"),
        ({}, "unknown-unknown-unknown"),
    ],
)
def test_machine_labels_are_short_and_safe(environment, label):
    assert merge.machine_label(environment) == label
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", label)


def test_alike_machines_get_distinct_labels_and_labels_are_escaped(demo, tmp_path):
    evil = other_machine(demo, cpu=f'{EVIL} "quoted" & Co')
    twin = copy.deepcopy(demo)
    merged = merge.merge([("a", demo), ("b", twin), ("c", evil)])
    labels = [label for label, _ in merge.labelled(merged)]
    assert labels == [
        "intel-xeon-linux-2c",
        "intel-xeon-linux-2c-2",
        "script-alert-1-script-quoted-co-linux-2c",
    ]
    page = site.render_report(merged)
    assert EVIL not in page and str(markupsafe.escape(f'{EVIL} "quoted" & Co')) in page
    assert len(articles(page)) == 3 and 'id="machine-intel-xeon-linux-2c-2"' in page


# --- the results document ----------------------------------------------------------------------------


def test_each_machine_is_upgraded_or_refused_like_a_file_of_its_own(demo, tmp_path):
    old = json.loads((DATA / "results_v1.json").read_text(encoding="utf-8"))
    assert old["schema_version"] == 1
    old["version"] = demo["version"]
    path = write(
        tmp_path / "merged.json", merge.merge([("a", demo), ("b", read_results(DATA / "results_v1.json"))])
    )
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["machines"][1] = old  # as an older reportgen would have stored it
    write(path, doc)
    upgraded = read_results(path)
    assert [m["schema_version"] for m in upgraded["machines"]] == [SCHEMA_VERSION, SCHEMA_VERSION]
    assert "robust_cv" in next(iter(upgraded["machines"][1]["backends"].values()))["latency_ms"]
    doc["machines"][1] = {**old, "schema_version": 9}
    write(path, doc)
    with pytest.raises(ResultsError) as info:
        read_results(path)
    assert str(info.value) == (
        f"{path}: machines[1]: schema_version: 9 is newer than this reportgen understands "
        f"({SCHEMA_VERSION}); upgrade reportgen"
    )
    write(path, {**doc, "machines": []})
    with pytest.raises(ResultsError, match="machines: expected a non-empty list"):
        read_results(path)


def test_the_results_documentation_describes_the_merged_document():
    text = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    section = text[text.index("## Several machines") :]
    for key in (
        "schema_version",
        "version",
        "title",
        "locale",
        "created_at",
        "reportgen_version",
        "machines",
    ):
        assert re.search(rf"^{key}\s", section, re.M), key


# --- the archive: render --all, the index, the previous version -----------------------------------------


def _archive(demo: dict, folder: Path) -> dict:
    """Build 0.0.9 (one machine), then 0.1.0 merged from two machines; return the merged document."""
    older = copy.deepcopy(demo)
    older["version"], older["created_at"] = "0.0.9", "2026-11-01T00:00:00Z"
    archive.build_site(folder, older, "a: 1\n")
    merged = merge.merge([("a", demo), ("b", other_machine(demo))])
    archive.build_site(folder, merged, None)
    return merged


def test_render_all_rerenders_a_merged_version_byte_identically(demo, tmp_path, reportgen):
    _archive(demo, tmp_path / "site")
    fresh = tree(tmp_path / "site")
    for name in ("0.0.9/index.html", "0.1.0/index.html", "index.html"):
        (tmp_path / "site" / name).write_text("<html>old template</html>")
    code, _, err = reportgen("render", "--all", "--site-dir", tmp_path / "site")
    assert code == 0, err
    assert tree(tmp_path / "site") == fresh


def test_the_index_lists_a_merged_version_per_machine(demo, tmp_path):
    _archive(demo, tmp_path / "site")
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<tr data-version="([^"]+)">', index) == ["0.1.0", "0.0.9"]
    row = re.search(r'<tr data-version="0.1.0">(.*?)</tr>', index, re.S).group(1)
    text = _text(row)
    assert "2 machines" in text
    advice = next(f for f in rules.findings(demo) if f["id"].startswith("recommend."))
    for label in ("intel-xeon-linux-2c", "amd-epyc-7763-linux-2c"):
        assert f'href="0.1.0/index.html#machine-{label}"' in row
        assert f"{label}: {advice['backend']} ({advice['params']['speedup']:.2f}× faster)" in text
        assert f"{label}: close, not identical" in text
    assert text.count("5 same answers") == 2  # each machine's own count, never a sum
    # Trends: a line per backend and machine, so the slower machine's numbers never join the other's.
    figures = dict(
        re.findall(r'<script type="application/json" id="([\w-]+)-data"[^>]*>(.*?)</script>', index, re.S)
    )
    latency = {t["name"]: t["y"] for t in json.loads(figures["chart-trend-latency"])["data"]}
    median = demo["backends"]["pytorch"]["latency_ms"]["median"]
    assert latency["pytorch · intel-xeon-linux-2c"] == [pytest.approx(median, rel=1e-3)] * 2
    assert latency["pytorch · amd-epyc-7763-linux-2c"] == [None, pytest.approx(median * SLOWER, rel=1e-3)]


def test_a_one_machine_version_after_a_merged_one_compares_with_its_own_machine(demo, tmp_path):
    _archive(demo, tmp_path / "site")
    later = other_machine(demo, factor=SLOWER * 1.2)
    later["version"], later["created_at"] = "0.2.0", "2026-12-01T00:00:00Z"
    page = archive.build_site(tmp_path / "site", later, None).read_text(encoding="utf-8")
    changes = page[page.index('<section id="changes"') :]
    assert "against the previous archived version, 0.1.0" in _text(changes)
    row = _text(re.search(r'<tr data-backend="onnxruntime">(.*?)</tr>', changes, re.S).group(1))
    amd = demo["backends"]["onnxruntime"]["latency_ms"]["median"] * SLOWER  # the AMD machine's, not Intel's
    assert f"{EN.ms(amd)} → {EN.ms(amd * 1.2)} +20.0% worse" in row
    # A machine the merged version did not measure passes it by: the version before it is compared.
    stranger = other_machine(demo, cpu="Apple M2", factor=1.0)
    stranger["version"], stranger["created_at"] = "0.1.5", "2026-11-30T00:00:00Z"
    page = archive.build_site(tmp_path / "site", stranger, None).read_text(encoding="utf-8")
    assert "against the previous archived version, 0.0.9" in _text(
        page[page.index('<section id="changes"') :]
    )


def test_publish_takes_a_merged_version_as_an_opaque_folder(demo, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    (tmp_path / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n[core]\n\tcompression = 0\n")
    from reportgen.release.publish import publish

    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    subprocess.run(["git", "commit", "--quiet", "--allow-empty", "-m", "init"], cwd=repo, check=True)
    _archive(demo, repo / "site")
    done = publish(repo / "site", repo, push=False)
    assert done.versions == ["0.0.9", "0.1.0"] and done.changed
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", "gh-pages"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert "0.1.0/results.json" in listing and "0.1.0/index.html" in listing
    published = subprocess.run(
        ["git", "show", "gh-pages:index.html"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout
    assert published == (repo / "site" / "index.html").read_text(encoding="utf-8")


# --- the CI workflow ---------------------------------------------------------------------------------


def test_the_workflow_measures_on_a_matrix_and_merges_one_version_in_one_job():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "report.yml").read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    measure, report = jobs["measure"], jobs["report"]
    assert len(measure["strategy"]["matrix"]["include"]) >= 2
    run_steps = " ".join(step.get("run", "") for step in measure["steps"])
    assert 'reportgen run -c configs/demo.yaml --version "$VERSION" ' in run_steps  # one label for all
    assert "publish" not in run_steps and "render" not in run_steps  # runners never push
    assert report["needs"] == "measure" and report["concurrency"]["cancel-in-progress"] is False
    steps = [step.get("run", "") for step in report["steps"]]
    merged = next(i for i, s in enumerate(steps) if "reportgen render --merge results/*.json" in s)
    gate = next(i for i, s in enumerate(steps) if 'reportgen compare "${{ steps.previous' in s)
    publish = next(i for i, s in enumerate(steps) if "reportgen publish" in s)
    assert merged < gate < publish
