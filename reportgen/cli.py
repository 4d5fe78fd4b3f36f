"""The command line: thin wiring of config -> run -> results -> site. No logic of its own."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click
from rich.console import Console
from rich.markup import escape

from reportgen import __version__
from reportgen.catalog import LOCALES
from reportgen.config import starter
from reportgen.errors import ReportgenError

if TYPE_CHECKING:  # the commands import what they need when they run (a fast --help)
    from reportgen.config.schema import Config
    from reportgen.results.schema import Document

console = Console(stderr=True, highlight=False)


def _progress() -> Callable[[str], None]:
    started = time.monotonic()
    # Messages are plain text (paths, extras like reportgen[ultralytics]): escape them from rich markup.
    return lambda message: console.print(f"[dim]{time.monotonic() - started:7.1f}s[/dim] {escape(message)}")


def _load(config_path: str, version: str | None, locale: str | None, from_tag: bool = False):
    from reportgen.config.schema import load_config, with_overrides

    if from_tag:
        if version is not None:
            raise click.UsageError("pass either --version or --version-from-tag, not both")
        from reportgen.release.publish import version_from_tag

        version = version_from_tag(Path("."))
    config = load_config(config_path)
    return with_overrides(config, config_path, version=version, locale=locale)


_from_tag = click.option(
    "--version-from-tag",
    "from_tag",
    is_flag=True,
    help="use the git tag at HEAD of the current repository as the version label",
)


def _config_options(command):
    """Add -c/--config and --demo (the built-in demo config shipped in the package) to a command."""
    command = click.option(
        "--demo",
        is_flag=True,
        help="use the built-in demo config shipped with reportgen (no checkout needed)",
    )(command)
    return click.option(
        "-c",
        "--config",
        "config_path",
        help="config file [configs/demo.yaml]",
        type=click.Path(),
    )(command)


def _config_file(config_path: str | None, demo: bool) -> str:
    """Return the config file to read: the one given, the shipped demo, or configs/demo.yaml."""
    if demo:
        if config_path:
            raise click.UsageError("pass either --config or --demo, not both")
        from reportgen.shipped import config_path as shipped_config

        return str(shipped_config("demo"))
    return config_path or "configs/demo.yaml"


def _measure(config: Config, config_path: str) -> Document:
    from reportgen.measure import runner

    work_dir = (Path("build") / "reportgen" / config.version).resolve()  # results name files absolutely
    document = runner.run(config, work_dir, config_path=config_path, progress=_progress())
    return cast("Document", document)  # run() checks what it returns (results.reader.check)


def _exit_if_unmeasured(document: Document) -> None:
    """Exit 1 (after writing everything) when the run could not measure what it was asked."""
    from reportgen.measure.runner import unmeasured

    reason = unmeasured(document)
    if reason:
        raise ReportgenError(f"the run could not measure what it was asked: {reason}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportgen")
def cli() -> None:
    """Honest PyTorch vs ONNX Runtime conversion reports."""


@cli.command()
@_config_options
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False),
    help="results file [build/reportgen/<version>/results.json]",
)
@click.option("--version", "version", help="report version label (overrides the config)")
@_from_tag
def run(config_path: str | None, demo: bool, out: str | None, version: str | None, from_tag: bool) -> None:
    """Measure every backend and write the results JSON (no site)."""
    from reportgen.results.document import write_results

    config_path = _config_file(config_path, demo)
    config = _load(config_path, version, None, from_tag)
    document = _measure(config, config_path)
    path = Path(out or Path("build") / "reportgen" / config.version / "results.json")
    write_results(path, document)
    console.print(f"results: {path}")
    _exit_if_unmeasured(document)


@cli.command()
@_config_options
@click.option("--version", "version", help="report version label (overrides the config)")
@click.option("--locale", type=click.Choice(LOCALES), help="report language (overrides the config)")
@click.option("--force", is_flag=True, help="replace an existing version of the report")
@click.option(
    "--results",
    "results_files",
    multiple=True,
    type=click.Path(),
    help="measure nothing: render these machines' results files merged into one version (repeatable)",
)
@_from_tag
def build(
    config_path: str | None,
    demo: bool,
    version: str | None,
    locale: str | None,
    force: bool,
    results_files: tuple[str, ...],
    from_tag: bool,
) -> None:
    """Measure, then render the report into the site archive (--results: merge files instead)."""
    from reportgen.release import archive
    from reportgen.results.document import write_results

    config_path = _config_file(config_path, demo)
    if results_files:
        if version is not None or from_tag:
            raise click.UsageError("--results files carry their version; drop --version/--version-from-tag")
        from reportgen.config.schema import load_config

        site_dir = Path(load_config(config_path, check_files=False).site.dir)  # no model files needed
        _render_merged(results_files, site_dir, force, locale)
        return
    config = _load(config_path, version, locale, from_tag)
    site_dir = Path(config.site.dir)
    archive.ensure_version_free(site_dir, config.version, force)  # fail before minutes of measuring
    document = _measure(config, config_path)
    # The measurement outlives a page that cannot be rendered: `render` can make it from this file.
    kept = Path("build") / "reportgen" / config.version / "results.json"
    write_results(kept, document)
    console.print(f"results: {kept}")
    page = archive.build_site(site_dir, document, Path(config_path).read_text(encoding="utf-8"), force=force)
    console.print(f"report: {page}")
    _exit_if_unmeasured(document)


def _render_merged(paths: tuple[str, ...], site_dir: Path, force: bool, locale: str | None) -> None:
    from reportgen.release import archive
    from reportgen.results import merge
    from reportgen.results.document import read_results

    merged = merge.merge([(path, read_results(Path(path))) for path in paths])  # labels checked
    page = archive.build_site(site_dir, merged, None, force=force, locale=locale, source=paths[0])
    labels = ", ".join(label for label, _ in merge.labelled(merged))
    console.print(f"report: {page} ({len(merged['machines'])} machines: {labels})", soft_wrap=True)


@cli.command()
@click.argument("results", nargs=-1, type=click.Path())
@click.option("--site-dir", default="site", show_default=True)
@click.option("--force", is_flag=True, help="replace an existing version of the report")
@click.option(
    "--merge",
    "merged",
    is_flag=True,
    help="the files are one version measured on several machines: render one report, a section each",
)
@click.option("--locale", type=click.Choice(LOCALES), help="report language (overrides the results)")
@click.option(
    "--all", "all_versions", is_flag=True, help="re-render every archived version with today's templates"
)
def render(
    results: tuple[str, ...],
    site_dir: str,
    force: bool,
    merged: bool,
    locale: str | None,
    all_versions: bool,
) -> None:
    """Render results JSON files into the site archive (or re-render all of it with --all)."""
    from reportgen.release import archive
    from reportgen.results.document import read_results
    from reportgen.results.version import check_version_label

    if all_versions == bool(results):
        raise click.UsageError("pass results files to render, or --all to re-render the archive")
    if all_versions:
        if merged or locale:
            raise click.UsageError("--all re-renders every version as archived; drop --merge and --locale")
        for page in archive.rebuild_pages(Path(site_dir)):
            console.print(f"report: {page}")
        return
    if merged:
        _render_merged(results, Path(site_dir), force, locale)
        return
    documents = [(path, read_results(Path(path))) for path in results]
    versions: dict[str, str] = {}
    for path, document in documents:
        check_version_label(document.get("version"), path)  # exit 2 before anything is written
        if document["version"] in versions:  # before anything is written
            raise click.UsageError(
                f"{versions[document['version']]} and {path} are both version {document['version']}; "
                "pass --merge to render them as one report with a section per machine"
            )
        versions[document["version"]] = path
    for path, document in documents:
        page = archive.build_site(Path(site_dir), document, None, force=force, locale=locale, source=path)
        console.print(f"report: {page}")


@cli.command()
@click.argument("old")
@click.argument("new")
@click.option(
    "-c",
    "--config",
    "config_path",
    help="config whose analysis.regression_* thresholds apply [the config stored in NEW]",
)
@click.option("--site-dir", default="site", show_default=True, help="where OLD and NEW as versions live")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True
)
@click.pass_context
def compare(ctx: click.Context, old: str, new: str, config_path: str | None, site_dir: str, fmt: str) -> None:
    """Compare two versions or results files; exit 1 on a regression past the thresholds."""
    from reportgen.release import compare as gate
    from reportgen.release import gate_report

    report = gate.compare_files(old, new, Path(site_dir), config_path)
    click.echo(gate_report.FORMATS[fmt](report), nl=False)
    if report["regressions"]:
        ctx.exit(1)


@cli.command()
@click.option("--site-dir", default="site", show_default=True)
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", default="gh-pages", show_default=True)
@click.option("-m", "--message", help="commit message [Publish reportgen site: <versions>]")
@click.option("--no-push", is_flag=True, help="commit to the local branch only")
@click.option(
    "--force-push", is_flag=True, help="overwrite the remote branch even when it moved (loses its commits)"
)
@click.option("--replace", is_flag=True, help="overwrite versions already published with other results")
def publish(
    site_dir: str,
    remote: str,
    branch: str,
    message: str | None,
    no_push: bool,
    force_push: bool,
    replace: bool,
) -> None:
    """Commit the site to the gh-pages branch, keeping published versions, and push it."""
    from reportgen.release.publish import publish as publish_site

    done = publish_site(
        Path(site_dir),
        Path("."),
        remote=remote,
        branch=branch,
        push=not no_push,
        force_push=force_push,
        replace=replace,
        message=message,
        progress=_progress(),
    )
    state = "pushed" if done.pushed else ("committed, not pushed" if done.changed else "already up to date")
    console.print(f"{done.branch} {done.commit[:10]} ({state}): {', '.join(done.versions)}")


@cli.command()
@click.option("--site-dir", default="site", show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="address to listen on; any other than loopback exposes the report to the network",
)
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0: any free port"
)
def serve(site_dir: str, host: str, port: int) -> None:
    """Serve the site on http://127.0.0.1 for a local look (Ctrl-C stops)."""
    from reportgen.release.serve import serve as serve_site

    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]warning:[/yellow] serving on {host}: other machines can read the report")
    # click.echo, not rich: the line must stay whole (a script or test reads the URL from it).
    serve_site(
        Path(site_dir), host, port, on_ready=lambda url: click.echo(f"serving {site_dir} at {url}", err=True)
    )


@cli.command()
@click.option(
    "--source",
    type=click.Choice(starter.SOURCES),
    default="factory",
    show_default=True,
)
@click.option(
    "--task",
    type=click.Choice(starter.TASKS),
    default="segmentation",
    show_default=True,
)
@click.option("-o", "--out", type=click.Path(dir_okay=False), default="reportgen.yaml", show_default=True)
@click.option("--force", is_flag=True, help="overwrite an existing file")
def init(source: str, task: str, out: str, force: bool) -> None:
    """Write a commented starter config for a model source and task."""
    from reportgen.config.starter import starter_config
    from reportgen.files import write_atomic

    if Path(out).exists() and not force:
        raise ReportgenError(f"{out}: already exists; pass --force to overwrite it")
    write_atomic(Path(out), starter_config(source, task))
    console.print(f"wrote {out}: edit the paths, then `reportgen validate {out}`")


@cli.command()
@click.argument("config_path", type=click.Path())
@click.option(
    "--deep",
    is_flag=True,
    help="also load the model, call it on the configured inputs at every batch size, export it and call "
    "the export once (seconds; times nothing)",
)
def validate(config_path: str, deep: bool) -> None:
    """Check a config without running it."""
    from reportgen.config.schema import load_config

    config = load_config(config_path)
    names = ", ".join(b.name for b in config.backends)
    click.echo(f"{config_path}: ok ({config.model.source} model, {config.model.task}, backends: {names})")
    if deep:  # a config mistake the model reveals raises ConfigError: one line, exit 2
        from reportgen.measure.preflight import deep_check

        for line in deep_check(config, config_path):
            click.echo(f"  {line}")


@cli.command()
def schema() -> None:
    """Print the config's JSON Schema (for editor completion)."""
    import json

    from reportgen.config.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))


def main() -> None:
    """Run the CLI; a ReportgenError becomes one line on stderr and its exit code, no traceback."""
    try:
        # Without standalone mode, click returns the code of ctx.exit() (compare's 1) instead of exiting.
        code = cli.main(standalone_mode=False)
    except ReportgenError as e:
        console.print(f"[red]error:[/red] {escape(str(e))}", soft_wrap=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        console.print("aborted")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
