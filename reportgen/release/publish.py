"""Publish the site to a gh-pages branch, keeping every version already published there.

The branch's tree is the union of what is published and the local site: versions only on the branch
survive, versions in the local site are added (a version published with different results is refused
unless ``replace``), and the index is regenerated over all of them. The commit is made with git's
plumbing in a temporary index, so the user's working tree, index and checked-out branch are never
touched. The push is never forced unless asked (mkdocs' gh-deploy force-pushes and loses what others
published). Local commits made with --no-push that the remote never got are merged with what the
remote has meanwhile (a commit with both as parents), so nothing published or committed is lost; a
push refused because the remote moved between fetch and push is one line, and publishing again
succeeds. Hidden files of the site (a build's staging folders, temporary files) are never published.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reportgen.errors import ConfigError, ReportgenError
from reportgen.release.archive import version_folders
from reportgen.results.document import read_results
from reportgen.results.version import EXPECTED, is_version_label

# Git needs an identity to commit; CI runners usually have none configured.
FALLBACK_IDENTITY = {"name": "reportgen", "email": "reportgen@users.noreply.github.com"}


@dataclass(frozen=True)
class Published:
    """What a publish did: the commit on the branch, the versions in it, whether it was pushed."""

    branch: str
    commit: str
    versions: list[str]
    changed: bool
    pushed: bool


class _Git:
    """Run git in one repository, turning failures into one-line ReportgenErrors."""

    def __init__(self, repo: Path, env: dict[str, str] | None = None):
        self.repo = repo
        self.env = {**os.environ, **(env or {})}

    def __call__(
        self, *args: str, check: bool = True, cwd: Path | None = None
    ) -> subprocess.CompletedProcess:
        try:
            done = subprocess.run(
                ["git", *args], cwd=cwd or self.repo, env=self.env, capture_output=True, text=True
            )
        except FileNotFoundError:
            raise ReportgenError("git is not installed (needed to publish)") from None
        if check and done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise ReportgenError(f"git {args[0]} failed: {lines[-1] if lines else f'exit {done.returncode}'}")
        return done

    def out(self, *args: str) -> str:
        return self(*args).stdout.strip()

    def sha(self, ref: str) -> str | None:
        done = self("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return done.stdout.strip() or None

    def is_ancestor(self, a: str, b: str) -> bool:
        return self("merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def _toplevel(repo_dir: Path) -> Path:
    done = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=repo_dir, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise ReportgenError(f"{repo_dir}: not inside a git repository; run publish in your repository")
    return Path(done.stdout.strip())


def version_from_tag(repo_dir: Path = Path(".")) -> str:
    """Return the git tag at HEAD of the repository as a version label."""
    try:
        done = subprocess.run(
            ["git", "describe", "--tags", "--exact-match", "HEAD"],
            cwd=repo_dir,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        raise ConfigError("git is not installed; pass --version instead of --version-from-tag") from None
    if done.returncode != 0:
        raise ConfigError(
            f"{Path(repo_dir).resolve()}: HEAD has no git tag (git describe --tags --exact-match); "
            "tag the release or pass --version"
        )
    tag = done.stdout.strip()
    if not is_version_label(tag):
        raise ConfigError(f"git tag {tag!r} cannot be a version label: expected {EXPECTED}; pass --version")
    return tag


def _overlay(source: Path, tree: Path, replace: bool, where: str = "") -> None:
    """Copy a site (the local one, or unpushed commits' files) over the tree to publish; refuse to
    change a published version's results unless ``replace``. Hidden files are never copied."""
    published = version_folders(tree)
    incoming = version_folders(source)
    changed = [
        name
        for name, results in incoming.items()
        if name in published and published[name].read_bytes() != results.read_bytes()
    ]
    if changed and not replace:
        raise ReportgenError(
            f"version{'s' if len(changed) > 1 else ''} {', '.join(changed)}{where} already published with "
            "different results; publish under a new version, or pass --replace to overwrite"
        )
    for entry in sorted(source.iterdir()):
        if entry.name.startswith("."):
            continue  # staging folders of an interrupted build, editor files, .nojekyll (rewritten)
        target = tree / entry.name
        if entry.name in incoming or not (entry.is_dir() and target.is_dir()):
            # A version is replaced as a whole; a file replaces what is there.
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
        if entry.is_dir():
            # Other folders (assets/) are merged: published pages may use files the local build lacks.
            shutil.copytree(entry, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*"))
        else:
            shutil.copy2(entry, target)


def _write_index(tree: Path) -> list[str]:
    """Regenerate index.html over every version in the tree; return the versions."""
    from reportgen.report.render import render_index

    versions = version_folders(tree)
    documents = [read_results(path) for path in versions.values()]
    (tree / "index.html").write_text(render_index(documents), encoding="utf-8")
    (tree / ".nojekyll").write_bytes(b"")  # GitHub Pages: serve the files as they are, no Jekyll
    return sorted(versions)


def _identity(git: _Git) -> dict[str, str]:
    env = {}
    for role in ("AUTHOR", "COMMITTER"):
        for key in ("name", "email"):
            variable = f"GIT_{role}_{key.upper()}"
            if variable not in git.env and git("config", f"user.{key}", check=False).returncode != 0:
                env[variable] = FALLBACK_IDENTITY[key]
    return env


def _base(
    git: _Git, local: str | None, fetched: str | None, force_push: bool
) -> tuple[str | None, str | None]:
    """Return (the commit the new one builds on, unpushed local commits to merge in, or None)."""
    if fetched is None or local is None or local == fetched:
        return local or fetched, None
    if git.is_ancestor(fetched, local):
        return local, None  # earlier --no-push commits, made on top of what is published
    if git.is_ancestor(local, fetched):
        return fetched, None
    if force_push:
        return local, None  # what only the remote has since the branches diverged is dropped
    return fetched, local  # the remote moved since --no-push commits were made: keep both


def _checkout(git: _Git, commit: str, folder: Path, index: Path) -> None:
    """Write the files of a commit into folder, through the given (temporary) index file."""
    git.env["GIT_INDEX_FILE"] = str(index)
    try:
        git("read-tree", commit)
        git("checkout-index", "--all", "--force", f"--prefix={folder}/")
    finally:
        del git.env["GIT_INDEX_FILE"]


def publish(
    site_dir: Path,
    repo_dir: Path = Path("."),
    *,
    remote: str = "origin",
    branch: str = "gh-pages",
    push: bool = True,
    force_push: bool = False,
    replace: bool = False,
    message: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Published:
    """Commit the site to `branch` on top of what is published there, then push it to `remote`."""
    site_dir = Path(site_dir)
    if not (site_dir / "index.html").is_file() or not version_folders(site_dir):
        raise ReportgenError(f"{site_dir}: no site to publish; run reportgen build or render first")
    repo = _toplevel(Path(repo_dir))
    git = _Git(repo)
    git_dir = Path(git.out("rev-parse", "--absolute-git-dir"))
    ref = f"refs/heads/{branch}"
    if git("check-ref-format", ref, check=False).returncode != 0:
        raise ReportgenError(f"{branch!r} is not a valid branch name")
    if git("symbolic-ref", "--quiet", "HEAD", check=False).stdout.strip() == ref:
        raise ReportgenError(f"{branch} is checked out in {repo}; switch to another branch to publish")
    has_remote = git("remote", "get-url", remote, check=False).returncode == 0
    if push and not has_remote:
        raise ReportgenError(f"{repo}: no git remote {remote!r}; add it, or pass --no-push")

    remote_ref = f"{remote}/{branch}"
    fetched = None
    if has_remote:
        progress(f"fetching {remote_ref}")
        heads = git.out("ls-remote", "--heads", remote, ref)
        if heads:
            git("fetch", "--quiet", "--no-tags", remote, f"+{ref}:refs/remotes/{remote_ref}")
            fetched = git.sha(f"refs/remotes/{remote_ref}")
    local = git.sha(ref)
    base, unpushed = _base(git, local, fetched, force_push)

    with tempfile.TemporaryDirectory(prefix="reportgen-publish-") as tmp:
        tree, index = Path(tmp) / "tree", Path(tmp) / "index"
        tree.mkdir()
        if base:
            _checkout(git, base, tree, index)
        if unpushed:
            progress(f"{remote_ref} moved: merging the unpushed local commits")
            theirs = Path(tmp) / "unpushed"
            theirs.mkdir()
            _checkout(git, unpushed, theirs, Path(tmp) / "unpushed-index")
            _overlay(theirs, tree, replace, f" of the unpushed local commits on {branch}")
        _overlay(site_dir, tree, replace)
        versions = _write_index(tree)
        git.env["GIT_INDEX_FILE"] = str(index)
        try:
            # --force: the user's global excludes must not drop a file of the site.
            git(f"--git-dir={git_dir}", f"--work-tree={tree}", "add", "--all", "--force", ".", cwd=tree)
            tree_sha = git.out("write-tree")
        finally:
            del git.env["GIT_INDEX_FILE"]
    changed = base is None or unpushed is not None or git.out("rev-parse", f"{base}^{{tree}}") != tree_sha
    commit = base
    if changed:
        text = message or f"Publish reportgen site: {', '.join(versions)}"
        git.env.update(_identity(git))
        parents = [arg for parent in (base, unpushed) if parent for arg in ("-p", parent)]
        commit = git.out("commit-tree", tree_sha, *parents, "-m", text)
    assert commit is not None

    pushed = False
    if push and commit != fetched:
        progress(f"pushing {commit[:10]} to {remote_ref}")
        lease = [f"--force-with-lease={ref}:{fetched or ''}"] if force_push else []
        done = git("push", *lease, remote, f"{commit}:{ref}", check=False)
        if done.returncode != 0:
            now = git.out("ls-remote", "--heads", remote, ref).split("\t")[0] or None
            if now != fetched:
                raise ReportgenError(
                    f"{remote_ref} moved since it was fetched ({(fetched or 'absent')[:10]}, now "
                    f"{(now or 'absent')[:10]}); nothing was published. Run reportgen publish again to "
                    "publish on top of it"
                )
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise ReportgenError(f"git push to {remote} failed: {lines[-1] if lines else done.returncode}")
        pushed = True
        git("update-ref", f"refs/remotes/{remote_ref}", commit)
    # The local branch moves only once the commit is published (or kept with --no-push), so a refused
    # push leaves nothing to clean up.
    git("update-ref", "-m", "reportgen publish", ref, commit, local or "")
    return Published(branch=branch, commit=commit, versions=versions, changed=changed, pushed=pushed)
