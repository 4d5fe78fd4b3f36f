"""The archive: a version is built once, never half, never touching older ones; re-rendered in one command.

The kill -9 tests stop a real build process with SIGKILL before each of its file-system steps in turn
(and at random moments from outside), then check that every version folder is exactly as it was or
exactly as a complete build leaves it; what killed builds leave is removed by the next render once
their processes are gone, never before, and is never indexed or served.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from documents import write
from report_helpers import site_tree, version

from reportgen import files
from reportgen.release import archive, serve
from reportgen.results.document import read_results

DATA = Path(__file__).parent / "data" / "results_v1.json"


@pytest.fixture
def results() -> dict:
    return read_results(DATA)  # upgraded to the current schema, as every reader gets it


# --- refusing to build a version twice ---------------------------------------------------------------


def test_a_second_render_of_a_version_is_refused_and_the_first_stays_byte_identical(
    results, tmp_path, reportgen
):
    first = write(tmp_path / "first.json", version(results, "0.1.0", 1))
    second = write(tmp_path / "second.json", version(results, "0.1.0", 2, title="Second try"))
    assert reportgen("render", first, "--site-dir", tmp_path / "site")[0] == 0
    before = site_tree(tmp_path / "site")
    code, _, err = reportgen("render", second, "--site-dir", tmp_path / "site")
    assert code == 1 and "Traceback" not in err
    assert (
        err.strip()
        == f"error: version 0.1.0 already exists in {tmp_path / 'site'}; pass --force to rebuild it"
    )
    assert site_tree(tmp_path / "site") == before
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["0.1.0", "assets", "index.html"]
    assert reportgen("render", second, "--site-dir", tmp_path / "site", "--force")[0] == 0
    assert b"Second try" in (tmp_path / "site" / "0.1.0" / "index.html").read_bytes()


def test_build_refuses_an_existing_version_before_measuring(results, tmp_path, reportgen):
    archive.build_site(tmp_path / "site", version(results, "0.1.0", 1), None)
    before = site_tree(tmp_path / "site")
    config = tmp_path / "config.yaml"
    config.write_text(f"version: 0.1.0\nsite:\n  dir: {tmp_path / 'site'}\n", encoding="utf-8")
    started = time.monotonic()
    code, _, err = reportgen("build", "-c", config)
    assert code == 1 and "version 0.1.0 already exists" in err and "--force" in err
    assert time.monotonic() - started < 5  # refused before any model was loaded
    assert site_tree(tmp_path / "site") == before


def test_a_new_version_never_touches_older_ones(results, tmp_path):
    archive.build_site(tmp_path / "site", version(results, "0.1.0", 1), "a: 1\n")
    old = {k: v for k, v in site_tree(tmp_path / "site").items() if k.startswith("0.1.0/")}
    archive.build_site(tmp_path / "site", version(results, "0.2.0", 2), None)
    assert {k: v for k, v in site_tree(tmp_path / "site").items() if k.startswith("0.1.0/")} == old


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
    now = site_tree(folder)
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
    before = site_tree(pristine)
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
    after = site_tree(tmp_path / "work" / f"k{outcome['completed']}")
    assert after != before and (after["0.1.0/index.html"] != before["0.1.0/index.html"]) == force
    for k in outcome["killed"]:
        _check_archive(tmp_path / "work" / f"k{k}", before, after, doc["version"])
    assert site_tree(pristine) == before
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
        expected[doc["title"]] = site_tree(tmp_path / doc["title"])
    old = {k: v for k, v in site_tree(folder).items() if k.startswith("0.1.0/")}
    rng = random.Random(2024)
    seen = False
    for _ in range(4):
        child = subprocess.Popen([sys.executable, "-c", LOOPER, str(folder), *paths], stdout=subprocess.PIPE)
        assert child.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        now = site_tree(folder)
        assert {k: v for k, v in now.items() if k.startswith("0.1.0/")} == old
        mine = {k: v for k, v in now.items() if k.startswith("0.2.0/")}
        whole = [{k: v for k, v in e.items() if k.startswith("0.2.0/")} for e in expected.values()]
        assert mine in whole or (not mine and not seen)  # absent only until a first build finished
        seen = seen or bool(mine)


# --- leftovers of killed builds ---------------------------------------------------------------------

# Runs in a child process: a build (or `render --all`) that stops inside one step and waits there,
# alive, until the test kills it: "staging" after the staging folder got its results.json, "temporary"
# with a page's temporary file written but not yet renamed over the version's index.html.
BLOCKER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from reportgen.release import archive

    mode, folder, ready = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    replace = os.replace

    def wait(where):
        ready.write_text(str(where))
        while True:
            time.sleep(0.05)

    def blocking_replace(src, dst):
        if mode == "temporary" and str(src).endswith(".tmp") and Path(dst).parent.name == "0.1.0":
            wait(src)
        if mode == "staging" and Path(dst).name == "results.json" and ".building-" in str(dst):
            replace(src, dst)
            wait(Path(dst).parent)
        replace(src, dst)

    os.replace = blocking_replace
    if mode == "staging":
        archive.build_site(folder, json.loads(Path(sys.argv[4]).read_text()), None)
    else:
        archive.rebuild_pages(folder)
    """
)


def _blocked(mode: str, folder: Path, ready: Path, *args: Path) -> tuple[subprocess.Popen, Path]:
    child = subprocess.Popen([sys.executable, "-c", BLOCKER, mode, str(folder), str(ready), *map(str, args)])
    deadline = time.monotonic() + 60
    while not ready.exists() or not ready.read_text():
        assert child.poll() is None and time.monotonic() < deadline, "the blocked build did not start"
        time.sleep(0.05)
    return child, Path(ready.read_text())


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def test_leftovers_of_killed_builds_are_removed_by_the_next_render_never_while_their_owner_lives(
    results, tmp_path, reportgen
):
    site = tmp_path / "site"
    archive.build_site(site, version(results, "0.1.0", 1), None)
    doc = write(tmp_path / "0.2.0.json", version(results, "0.2.0", 2))
    building, staging = _blocked("staging", site, tmp_path / "ready-1", doc)
    rendering, temporary = _blocked("temporary", site, tmp_path / "ready-2")
    assert staging.parent == site and staging.name.startswith(f".0.2.0.building-{building.pid}.")
    assert temporary.parent == site / "0.1.0" and temporary.name.startswith(f".index.html@{rendering.pid}.")
    try:
        # While their processes live, another build leaves their files alone ...
        archive.build_site(site, version(results, "0.3.0", 3), None)
        assert staging.is_dir() and (staging / "results.json").is_file() and temporary.is_file()
        # ... and they are no version: not indexed, not served, not listed.
        index = (site / "index.html").read_text(encoding="utf-8")
        assert re.findall(r'<tr data-version="([^"]+)">', index) == ["0.3.0", "0.1.0"]
        with serve.make_server(site, port=0) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            url = serve.url_of(server)
            assert _get(url + "0.1.0/index.html") == 200
            for hidden in (
                f"{staging.name}/results.json",
                f"0.1.0/{temporary.name}",
                "%2e0.2.0/x",
                "assets/",
            ):
                assert _get(url + hidden) == 404, hidden
            server.shutdown()
            thread.join()
    finally:
        for child in (building, rendering):
            child.send_signal(signal.SIGKILL)
            child.wait()
    # Their processes are gone: the next render removes what they left, and nothing else.
    kept = {k: v for k, v in site_tree(site).items() if "/." not in k and k != "index.html"}
    new = write(tmp_path / "0.4.0.json", version(results, "0.4.0", 4))
    code, _, err = reportgen("render", new, "--site-dir", site)
    assert code == 0, err
    assert not staging.exists() and not temporary.exists() and list(site.rglob(".*")) == []
    after = site_tree(site)
    assert {k: v for k, v in after.items() if not k.startswith("0.4.0/") and k != "index.html"} == kept


def test_a_version_a_killed_build_moved_aside_is_moved_back_and_old_unowned_leftovers_go(results, tmp_path):
    site = tmp_path / "site"
    archive.build_site(site, version(results, "0.1.0", 1), "a: 1\n")
    whole = site_tree(site)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    aside = site / f".0.1.0.replaced-{int(gone.stdout)}.1-abcd1234"  # a dead process's
    aside.mkdir()
    (site / "0.1.0").rename(aside / "0.1.0")  # killed between its two renames
    old, fresh = site / ".0.2.0.building-abcdefgh", site / ".0.3.0.building-ijklmnop"  # older reportgen's
    for path in (old, fresh):
        path.mkdir()
    os.utime(old, (time.time() - 2 * archive.UNOWNED_AGE_S,) * 2)
    assert sorted(p.name for p in archive.remove_leftovers(site)) == sorted([aside.name, old.name])
    assert site_tree(site) == whole and fresh.is_dir() and not old.exists() and not aside.exists()


def test_a_killed_unreaped_process_owns_nothing_and_a_reused_pid_is_not_its_owner():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = files._start_time(child.pid)
        assert start and files.owner_is_alive(child.pid, start) and files.owner_is_alive(child.pid)
        assert not files.owner_is_alive(child.pid, str(int(start) + 1))  # its pid, another process
        child.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while files.owner_is_alive(child.pid, start):  # a zombie until its parent reaps it
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        child.kill()
        child.wait()
    assert not files.owner_is_alive(child.pid, start)
