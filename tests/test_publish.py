"""Publishing to gh-pages with real git (a local bare repository as the remote), and the preview server."""

from __future__ import annotations

import copy
import re
import signal
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from reportgen.release import archive
from reportgen.results.document import read_results

DATA = Path(__file__).parent / "data" / "results_v1.json"


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch, tmp_path):
    """Keep the user's git config (signing, hooks, excludes) out; give commits a fixed identity."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    # Level-0 zlib: the 4.7 MB Plotly bundle is hashed and packed in every test; speed over size.
    (tmp_path / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n[core]\n\tcompression = 0\n")


@pytest.fixture
def results() -> dict:
    return read_results(DATA)  # build_site takes read documents only


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def version(results: dict, label: str, day: int) -> dict:
    doc = copy.deepcopy(results)
    doc["version"], doc["created_at"] = label, f"2026-12-{day:02d}T00:00:00Z"
    return doc


@pytest.fixture
def remote(tmp_path) -> Path:
    path = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(path), cwd=tmp_path)
    return path


def checkout(tmp_path: Path, remote: Path, name: str) -> Path:
    """Return a new repository (a machine) with `remote` as origin and one commit on main."""
    repo = tmp_path / name
    git("init", "--quiet", str(repo), cwd=tmp_path)
    git("commit", "--quiet", "--allow-empty", "-m", "init", cwd=repo)
    git("remote", "add", "origin", str(remote), cwd=repo)
    return repo


def published(remote: Path) -> dict[str, bytes]:
    """Return path -> bytes of every file on the remote's gh-pages."""
    names = git("ls-tree", "-r", "--name-only", "gh-pages", cwd=remote).splitlines()
    return {
        n: subprocess.run(["git", "show", f"gh-pages:{n}"], cwd=remote, capture_output=True).stdout
        for n in names
    }


def index_versions(files: dict[str, bytes]) -> list[str]:
    return re.findall(r'<tr data-version="([^"]+)">', files["index.html"].decode("utf-8"))


# --- publish ---------------------------------------------------------------------------------------


def test_publishing_twice_from_two_machines_keeps_both_versions(results, tmp_path, remote, reportgen):
    first = checkout(tmp_path, remote, "a")
    archive.build_site(first / "site", version(results, "0.1.0", 1), "a: 1\n")
    code, _, err = reportgen("publish", cwd=first)
    assert code == 0, err
    assert "gh-pages" in err and "(pushed): 0.1.0" in err
    before = published(remote)
    assert {".nojekyll", "index.html", "0.1.0/index.html", "0.1.0/results.json"} <= set(before)
    assert before[".nojekyll"] == b"" and "assets/plotly.min.js" in before

    # A second machine (a fresh CI runner) has only the new version in its site.
    second = checkout(tmp_path, remote, "b")
    archive.build_site(second / "site", version(results, "0.2.0", 5), None)
    code, _, err = reportgen("publish", cwd=second)
    assert code == 0, err
    after = published(remote)
    assert {n: after[n] for n in before if n.startswith("0.1.0/")} == {
        n: b for n, b in before.items() if n.startswith("0.1.0/")
    }
    assert "0.2.0/index.html" in after and index_versions(after) == ["0.2.0", "0.1.0"]
    log = git("log", "--format=%s", "gh-pages", cwd=remote).splitlines()
    assert log == ["Publish reportgen site: 0.1.0, 0.2.0", "Publish reportgen site: 0.1.0"]


def test_publish_never_touches_the_working_tree_index_or_head(results, tmp_path, remote, reportgen):
    repo = checkout(tmp_path, remote, "a")
    (repo / "code.py").write_text("x = 1\n")
    git("add", "code.py", cwd=repo)
    (repo / "code.py").write_text("x = 2\n")
    archive.build_site(repo / "site", version(results, "0.1.0", 1), None)
    state = [git("status", "--porcelain", cwd=repo), git("symbolic-ref", "HEAD", cwd=repo)]
    state.append(git("rev-parse", "HEAD", cwd=repo))
    assert reportgen("publish", cwd=repo)[0] == 0
    assert [
        git("status", "--porcelain", cwd=repo),
        git("symbolic-ref", "HEAD", cwd=repo),
        git("rev-parse", "HEAD", cwd=repo),
    ] == state
    assert git("rev-parse", "gh-pages", cwd=repo) == git("rev-parse", "gh-pages", cwd=remote)


def test_republishing_the_same_site_makes_no_commit(results, tmp_path, remote, reportgen):
    repo = checkout(tmp_path, remote, "a")
    archive.build_site(repo / "site", version(results, "0.1.0", 1), None)
    assert reportgen("publish", cwd=repo)[0] == 0
    head = git("rev-parse", "gh-pages", cwd=remote)
    code, _, err = reportgen("publish", cwd=repo)
    assert code == 0 and "already up to date" in err
    assert git("rev-parse", "gh-pages", cwd=remote) == head


def test_no_push_commits_locally_and_a_later_publish_pushes_it(results, tmp_path, remote, reportgen):
    repo = checkout(tmp_path, remote, "a")
    archive.build_site(repo / "site", version(results, "0.1.0", 1), None)
    code, _, err = reportgen("publish", "--no-push", cwd=repo)
    assert code == 0 and "committed, not pushed" in err
    assert git("branch", "--list", "gh-pages", cwd=remote) == ""
    local = git("rev-parse", "gh-pages", cwd=repo)
    assert reportgen("publish", cwd=repo)[0] == 0
    assert git("rev-parse", "gh-pages", cwd=remote) == local


def test_unpushed_local_commits_are_merged_when_the_remote_moved(results, tmp_path, remote, reportgen):
    a = checkout(tmp_path, remote, "a")
    archive.build_site(a / "site", version(results, "0.1.0", 1), None)
    assert reportgen("publish", cwd=a)[0] == 0
    archive.build_site(a / "site", version(results, "0.2.0", 2), None)
    assert reportgen("publish", "--no-push", cwd=a)[0] == 0  # on top of what a fetched
    local = git("rev-parse", "gh-pages", cwd=a)
    b = checkout(tmp_path, remote, "b")
    archive.build_site(b / "site", version(results, "0.3.0", 3), None)
    assert reportgen("publish", cwd=b)[0] == 0  # the remote moves on
    moved = git("rev-parse", "gh-pages", cwd=remote)

    # No manual git command: the unpushed commit and the remote's new one are both kept.
    code, _, err = reportgen("publish", cwd=a)
    assert code == 0 and "merging the unpushed local commits" in err and "Traceback" not in err
    assert index_versions(published(remote)) == ["0.3.0", "0.2.0", "0.1.0"]
    head = git("rev-parse", "gh-pages", cwd=remote)
    assert git("rev-parse", "gh-pages", cwd=a) == head
    assert git("log", "-1", "--format=%P", head, cwd=remote).split() == [moved, local]
    code, _, err = reportgen("publish", cwd=a)  # and again: nothing left to do
    assert code == 0 and "already up to date" in err, err


def test_a_version_changed_on_both_sides_needs_replace_then_publishes(results, tmp_path, remote, reportgen):
    a = checkout(tmp_path, remote, "a")
    archive.build_site(a / "site", version(results, "0.1.0", 1), None)
    assert reportgen("publish", "--no-push", cwd=a)[0] == 0
    b = checkout(tmp_path, remote, "b")
    other = version(results, "0.1.0", 1)
    other["title"] = "Built on b"
    archive.build_site(b / "site", other, None)
    assert reportgen("publish", cwd=b)[0] == 0
    moved = git("rev-parse", "gh-pages", cwd=remote)
    for _ in range(2):  # the refusal is the same each time: only the user can choose a side
        code, _, err = reportgen("publish", cwd=a)
        assert (
            code == 1 and "version 0.1.0 of the unpushed local commits on gh-pages already published" in err
        )
        assert git("rev-parse", "gh-pages", cwd=remote) == moved
    assert reportgen("publish", "--replace", cwd=a)[0] == 0
    assert b"Built on b" not in published(remote)["0.1.0/index.html"]


def test_force_push_overwrites_a_moved_remote_only_when_told(results, tmp_path, remote, reportgen):
    a = checkout(tmp_path, remote, "a")
    archive.build_site(a / "site", version(results, "0.1.0", 1), None)
    assert reportgen("publish", "--no-push", cwd=a)[0] == 0
    b = checkout(tmp_path, remote, "b")
    archive.build_site(b / "site", version(results, "0.3.0", 3), None)
    assert reportgen("publish", cwd=b)[0] == 0
    code, _, err = reportgen("publish", "--force-push", cwd=a)
    assert code == 0, err
    assert index_versions(published(remote)) == ["0.1.0"]  # 0.3.0, only on the remote, is dropped
    assert git("rev-parse", "gh-pages", cwd=remote) == git("rev-parse", "gh-pages", cwd=a)


@pytest.mark.parametrize("unpushed", [False, True], ids=["nothing-local", "unpushed-local-commit"])
def test_refused_when_the_remote_moves_between_fetch_and_push(results, tmp_path, remote, reportgen, unpushed):
    a = checkout(tmp_path, remote, "a")
    archive.build_site(a / "site", version(results, "0.1.0", 1), None)
    if unpushed:
        assert reportgen("publish", "--no-push", cwd=a)[0] == 0
    local = git("branch", "--list", "gh-pages", cwd=a) and git("rev-parse", "gh-pages", cwd=a)
    b = checkout(tmp_path, remote, "b")
    archive.build_site(b / "site", version(results, "0.2.0", 2), None)
    # A real race: git runs a's pre-push hook after publish fetched and committed, and the hook makes
    # machine b publish first. The hook removes itself so that it fires once.
    hook = a / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f'#!/bin/sh\nrm -- "$0"\ncd {b} && {sys.executable} -m reportgen publish >/dev/null 2>&1\n'
    )
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    code, _, err = reportgen("publish", cwd=a)
    assert code == 1
    assert "origin/gh-pages moved since it was fetched" in err and "nothing was published" in err
    assert index_versions(published(remote)) == ["0.2.0"]  # b's publish stands
    # a's local branch did not move: absent, or still its unpushed commit
    assert (git("branch", "--list", "gh-pages", cwd=a) and git("rev-parse", "gh-pages", cwd=a)) == local
    assert reportgen("publish", cwd=a)[0] == 0  # publishing again goes on top, no git command needed
    assert index_versions(published(remote)) == ["0.2.0", "0.1.0"]
    if unpushed:  # the local commit is part of what is published now
        git("merge-base", "--is-ancestor", local, "gh-pages", cwd=remote)


def test_a_published_version_with_other_results_needs_replace(results, tmp_path, remote, reportgen):
    a = checkout(tmp_path, remote, "a")
    archive.build_site(a / "site", version(results, "0.1.0", 1), None)
    assert reportgen("publish", cwd=a)[0] == 0
    b = checkout(tmp_path, remote, "b")
    changed = version(results, "0.1.0", 1)
    changed["title"] = "Rebuilt elsewhere"
    archive.build_site(b / "site", changed, None)
    code, _, err = reportgen("publish", cwd=b)
    assert code == 1 and "version 0.1.0 already published with different results" in err
    assert reportgen("publish", "--replace", cwd=b)[0] == 0
    assert b"Rebuilt elsewhere" in published(remote)["0.1.0/index.html"]


def test_interrupted_build_leftovers_are_not_published(results, tmp_path, remote, reportgen):
    repo = checkout(tmp_path, remote, "a")
    archive.build_site(repo / "site", version(results, "0.1.0", 1), None)
    (repo / "site" / ".0.2.0.building-x").mkdir()
    (repo / "site" / ".0.2.0.building-x" / "index.html").write_text("half")
    # Temporary files of a killed write, inside the assets and a version folder.
    (repo / "site" / "assets" / ".style.css@1.2-abcdefgh.tmp").write_text("half")
    (repo / "site" / "0.1.0" / ".index.html@1.2-abcdefgh.tmp").write_text("half")
    assert reportgen("publish", cwd=repo)[0] == 0
    names = published(remote)
    assert "0.1.0/index.html" in names and "assets/style.css" in names
    assert [name for name in names if "/." in f"/{name}"] == [".nojekyll"]


def test_refusals_name_the_problem(results, tmp_path, remote, reportgen):
    repo = checkout(tmp_path, remote, "a")
    code, _, err = reportgen("publish", cwd=repo)
    assert code == 1 and "site: no site to publish; run reportgen build or render first" in err
    archive.build_site(repo / "site", version(results, "0.1.0", 1), None)
    code, _, err = reportgen("publish", "--remote", "upstream", cwd=repo)
    assert code == 1 and "no git remote 'upstream'; add it, or pass --no-push" in err
    assert reportgen("publish", "--remote", "upstream", "--no-push", cwd=repo)[0] == 0
    git("checkout", "--quiet", "gh-pages", cwd=repo)
    code, _, err = reportgen("publish", "--no-push", cwd=repo)
    assert code == 1 and "gh-pages is checked out" in err
    outside = tmp_path / "outside"
    outside.mkdir()
    archive.build_site(outside / "site", version(results, "0.1.0", 1), None)
    code, _, err = reportgen("publish", cwd=outside)
    assert code == 1 and "not inside a git repository" in err


# --- serve -----------------------------------------------------------------------------------------


def test_serve_listens_on_loopback_and_serves_the_site(results, tmp_path):
    archive.build_site(tmp_path / "site", version(results, "0.1.0", 1), None)
    server = subprocess.Popen(
        [sys.executable, "-m", "reportgen", "serve", "--site-dir", str(tmp_path / "site"), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stderr.readline()
        match = re.search(r" at (http://127\.0\.0\.1:\d+/)$", line.strip())
        assert match, line
        with urllib.request.urlopen(match.group(1) + "0.1.0/index.html", timeout=10) as response:
            assert response.read() == (tmp_path / "site" / "0.1.0" / "index.html").read_bytes()
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
        server.stderr.close()


def test_serve_refuses_a_folder_without_a_site(tmp_path, reportgen):
    code, _, err = reportgen("serve", "--site-dir", tmp_path / "nothing", cwd=tmp_path)
    assert code == 1 and "no site to serve" in err


def test_serve_binds_127_0_0_1_by_default(results, tmp_path):
    from reportgen.cli import cli
    from reportgen.release import serve

    assert next(p for p in cli.commands["serve"].params if p.name == "host").default == "127.0.0.1"
    archive.build_site(tmp_path / "site", version(results, "0.1.0", 1), None)
    with serve.make_server(tmp_path / "site", port=0) as server:
        assert server.server_address[0] == "127.0.0.1"
        assert serve.url_of(server).startswith("http://127.0.0.1:")
