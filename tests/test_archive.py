"""The archive: a version is built once, never half, never touching older ones; re-rendered in one command.

The kill -9 tests stop a real build process with SIGKILL before each of its file-system steps in turn
(and at random moments from outside), then check that every version folder is exactly as it was or
exactly as a complete build leaves it.
"""

from __future__ import annotations

import copy
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reportgen.release import archive
from reportgen.results import document as results_module
from reportgen.results.document import read_results

DATA = Path(__file__).parent / "data" / "results_v1.json"


@pytest.fixture
def results() -> dict:
    return read_results(DATA)  # upgraded to the current schema, as every reader gets it


def version(results: dict, label: str, day: int, title: str | None = None) -> dict:
    doc = copy.deepcopy(results)
    doc["version"], doc["created_at"], doc["title"] = label, f"2026-12-{day:02d}T00:00:00Z", title
    return doc


def write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def tree(folder: Path) -> dict[str, bytes]:
    """Return relative path -> bytes of every file under folder, hidden staging folders left out."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).parts[0].startswith(".")
    }


# --- refusing to build a version twice ---------------------------------------------------------------


def test_a_second_render_of_a_version_is_refused_and_the_first_stays_byte_identical(
    results, tmp_path, reportgen
):
    first = write(tmp_path / "first.json", version(results, "0.1.0", 1))
    second = write(tmp_path / "second.json", version(results, "0.1.0", 2, title="Second try"))
    assert reportgen("render", first, "--site-dir", tmp_path / "site")[0] == 0
    before = tree(tmp_path / "site")
    code, _, err = reportgen("render", second, "--site-dir", tmp_path / "site")
    assert code == 1 and "Traceback" not in err
    assert (
        err.strip()
        == f"error: version 0.1.0 already exists in {tmp_path / 'site'}; pass --force to rebuild it"
    )
    assert tree(tmp_path / "site") == before
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["0.1.0", "assets", "index.html"]
    assert reportgen("render", second, "--site-dir", tmp_path / "site", "--force")[0] == 0
    assert b"Second try" in (tmp_path / "site" / "0.1.0" / "index.html").read_bytes()


def test_build_refuses_an_existing_version_before_measuring(results, tmp_path, reportgen):
    archive.build_site(tmp_path / "site", version(results, "0.1.0", 1), None)
    before = tree(tmp_path / "site")
    config = tmp_path / "config.yaml"
    config.write_text(f"version: 0.1.0\nsite:\n  dir: {tmp_path / 'site'}\n", encoding="utf-8")
    started = time.monotonic()
    code, _, err = reportgen("build", "-c", config)
    assert code == 1 and "version 0.1.0 already exists" in err and "--force" in err
    assert time.monotonic() - started < 5  # refused before any model was loaded
    assert tree(tmp_path / "site") == before


def test_a_new_version_never_touches_older_ones(results, tmp_path):
    archive.build_site(tmp_path / "site", version(results, "0.1.0", 1), "a: 1\n")
    old = {k: v for k, v in tree(tmp_path / "site").items() if k.startswith("0.1.0/")}
    archive.build_site(tmp_path / "site", version(results, "0.2.0", 2), None)
    assert {k: v for k, v in tree(tmp_path / "site").items() if k.startswith("0.1.0/")} == old


# --- version labels -------------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["../x", "a/b", "assets", "Assets", "index", ".hidden", "x y", "a\\b"])
def test_path_like_or_reserved_version_labels_are_refused(results, tmp_path, reportgen, label):
    (tmp_path / "work").mkdir()
    doc = write(tmp_path / "work" / "r.json", version(results, label, 1))
    code, _, err = reportgen("render", doc, "--site-dir", tmp_path / "work" / "site")
    assert code == 1 and f"version {label!r} cannot name a folder of the site" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["r.json"]
    code, _, err = reportgen("build", "-c", "configs/demo.yaml", "--version", label)
    assert code == 2 and "configs/demo.yaml with --version: version: expected a label" in err


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
    assert code == 2 and "git tag 'release/1.0' cannot be a version label" in err
    monkeypatch.chdir(_tagged_repo(tmp_path / "untagged", ""))
    code, _, err = reportgen("run", "-c", config, "--version-from-tag")
    assert code == 2 and "HEAD has no git tag" in err and "--version" in err


# --- render --all ---------------------------------------------------------------------------------


def test_render_all_rerenders_every_version_with_todays_templates(results, tmp_path, reportgen):
    for label, day in (("0.1.0", 1), ("0.2.0", 2), ("0.3.0", 3)):
        archive.build_site(tmp_path / "site", version(results, label, day), "a: 1\n")
    fresh = tree(tmp_path / "site")
    for label in ("0.1.0", "0.2.0", "0.3.0"):  # pages from an older template
        (tmp_path / "site" / label / "index.html").write_text("<html>old template</html>")
    (tmp_path / "site" / "index.html").write_text("<html>old index</html>")
    code, _, err = reportgen("render", "--all", "--site-dir", tmp_path / "site")
    assert code == 0, err
    assert err.count("report: ") == 3
    assert tree(tmp_path / "site") == fresh


def test_render_all_upgrades_older_schemas_in_memory_and_refuses_newer(results, tmp_path, reportgen):
    archive.build_site(tmp_path / "site", version(results, "0.1.0", 1), None)
    archive.build_site(tmp_path / "site", version(results, "0.2.0", 2), None)
    # 0.1.0 as an older reportgen archived it: a schema-1 file (no robust CV, an old config key).
    old = json.loads(DATA.read_text(encoding="utf-8"))
    assert old["schema_version"] == 1
    write(tmp_path / "site" / "0.1.0" / "results.json", {**old, "version": "0.1.0"})
    archived = tree(tmp_path / "site")
    assert reportgen("render", "--all", "--site-dir", tmp_path / "site")[0] == 0
    for name in ("0.1.0/results.json", "0.2.0/results.json"):
        assert tree(tmp_path / "site")[name] == archived[name]  # the archived data is never rewritten
    assert b"0.1.0" in tree(tmp_path / "site")["0.1.0/index.html"]

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


# --- kill -9 ----------------------------------------------------------------------------------------

# Runs in a child process: for k = 1, 2, ... it forks a build that SIGKILLs itself just before its
# k-th file-system step (mkdir, open for writing, chmod, rename, unlink, rmdir), on a fresh copy of
# the pristine site, until a build completes. Test-only wrapping lives here, not in reportgen.
STEPPER = textwrap.dedent(
    """
    import builtins, io, json, os, shutil, signal, sys
    from pathlib import Path
    from reportgen.release import archive
    from reportgen.report import render as site

    pristine, work, doc_path, force = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
    doc = json.loads(Path(doc_path).read_text())
    site.render_report(doc)  # warm the template cache once; every fork inherits it

    def arm(stop_at):
        steps = [0]

        def step():
            steps[0] += 1
            if steps[0] == stop_at:
                os.kill(os.getpid(), signal.SIGKILL)

        def wrap(module, name, mutates=lambda *a, **k: True):
            original = getattr(module, name)

            def wrapper(*args, **kwargs):
                if mutates(*args, **kwargs):
                    step()
                return original(*args, **kwargs)

            setattr(module, name, wrapper)

        for name in ("mkdir", "chmod", "replace", "rename", "unlink", "remove", "rmdir"):
            wrap(os, name)
        wrap(os, "open", lambda path, flags, *a, **k: flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        writes = lambda file, mode="r", *a, **k: any(c in mode for c in "wax+")
        wrap(io, "open", writes)
        wrap(builtins, "open", writes)

    killed, k = [], 1
    while k < 500:
        target = work / f"k{k}"
        # Hard links: cheap, and safe because a build replaces files, never writes into them (the test
        # checks that the pristine files are unchanged afterwards).
        shutil.copytree(pristine, target, copy_function=os.link)
        pid = os.fork()
        if pid == 0:
            arm(k)
            try:
                archive.build_site(target, doc, "config: 2\\n", force=force)
            except BaseException:
                os._exit(3)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            killed.append(k)
            k += 1
            continue
        print(json.dumps({"killed": killed, "completed": k, "code": os.waitstatus_to_exitcode(status)}))
        break
    """
)


def _check_archive(folder: Path, before: dict[str, bytes], after: dict[str, bytes], new: str) -> None:
    """Assert that every version folder and file is whole: as before the build, or as after it."""
    now = tree(folder)
    versions = {name.split("/")[0] for name in [*before, *after] if "/" in name and "assets/" not in name}
    for label in versions:
        mine = {k: v for k, v in now.items() if k.startswith(f"{label}/")}
        old = {k: v for k, v in before.items() if k.startswith(f"{label}/")}
        built = {k: v for k, v in after.items() if k.startswith(f"{label}/")}
        assert mine in (old, built), f"{folder}: version {label} is partial: {sorted(mine)}"
        if label != new or old:
            assert mine, f"{folder}: version {label} disappeared"
    for name, data in now.items():
        if name.split("/")[0] not in versions:  # index.html, assets/*
            assert data in (before.get(name), after.get(name)), f"{folder}: {name} is partial"
    assert set(now) <= set(before) | set(after)
    archive.rebuild_pages(folder)  # staging leftovers never confuse the next command


@pytest.mark.parametrize("force", [False, True], ids=["new-version", "force-rebuild"])
def test_a_build_killed_before_any_step_leaves_no_partial_version(results, tmp_path, force):
    pristine = tmp_path / "pristine"
    archive.build_site(pristine, version(results, "0.1.0", 1), "config: 1\n")
    doc = version(results, "0.1.0", 1, title="Rebuilt") if force else version(results, "0.2.0", 2)
    (tmp_path / "work").mkdir()
    before = tree(pristine)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            STEPPER,
            str(pristine),
            str(tmp_path / "work"),
            str(write(tmp_path / "d.json", doc)),
            "1" if force else "0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["code"] == 0 and len(outcome["killed"]) >= 8  # every step of a build was a kill point
    after = tree(tmp_path / "work" / f"k{outcome['completed']}")
    assert after != before and (after["0.1.0/index.html"] != before["0.1.0/index.html"]) == force
    for k in outcome["killed"]:
        _check_archive(tmp_path / "work" / f"k{k}", before, after, doc["version"])
    assert tree(pristine) == before
    shutil.rmtree(tmp_path / "work")  # pytest keeps the last runs' tmp_path; keep them small


LOOPER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from reportgen.release import archive

    folder, docs = Path(sys.argv[1]), [json.loads(Path(p).read_text()) for p in sys.argv[2:]]
    print("ready", flush=True)
    i = 0
    while True:
        archive.build_site(folder, docs[i % len(docs)], None, force=True)
        i += 1
    """
)


def test_a_build_killed_at_random_moments_from_outside_leaves_whole_versions(results, tmp_path):
    folder = tmp_path / "site"
    archive.build_site(folder, version(results, "0.1.0", 1), None)
    a, b = version(results, "0.2.0", 2, title="A"), version(results, "0.2.0", 2, title="B")
    paths = [str(write(tmp_path / "a.json", a)), str(write(tmp_path / "b.json", b))]
    expected = {}
    for doc in (a, b):  # the two complete states of 0.2.0
        archive.build_site(tmp_path / doc["title"], version(results, "0.1.0", 1), None)
        archive.build_site(tmp_path / doc["title"], doc, None)
        expected[doc["title"]] = tree(tmp_path / doc["title"])
    old = {k: v for k, v in tree(folder).items() if k.startswith("0.1.0/")}
    rng = random.Random(2024)
    seen = False
    for _ in range(4):
        child = subprocess.Popen([sys.executable, "-c", LOOPER, str(folder), *paths], stdout=subprocess.PIPE)
        assert child.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        now = tree(folder)
        assert {k: v for k, v in now.items() if k.startswith("0.1.0/")} == old
        mine = {k: v for k, v in now.items() if k.startswith("0.2.0/")}
        whole = [{k: v for k, v in e.items() if k.startswith("0.2.0/")} for e in expected.values()]
        assert mine in whole or (not mine and not seen)  # absent only until a first build finished
        seen = seen or bool(mine)
