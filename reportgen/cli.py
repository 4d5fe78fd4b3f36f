"""The command line: thin wiring of config -> run -> results -> site. No logic of its own."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console

from reportgen import __version__
from reportgen.errors import ReportgenError

console = Console(stderr=True, highlight=False)


def _progress() -> callable:
    started = time.monotonic()
    return lambda message: console.print(f"[dim]{time.monotonic() - started:7.1f}s[/dim] {message}")


def _load(config_path: str, version: str | None, locale: str | None):
    from reportgen.config import load_config, with_overrides

    config = load_config(config_path)
    return with_overrides(config, config_path, version=version, locale=locale)


def _measure(config, config_path: str) -> dict:
    from reportgen import runner

    work_dir = Path("build") / "reportgen" / config.version
    return runner.run(config, work_dir, config_path=config_path, progress=_progress())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportgen")
def cli() -> None:
    """Honest PyTorch vs ONNX Runtime conversion reports."""


@cli.command()
@click.option("-c", "--config", "config_path", default="configs/demo.yaml", show_default=True)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False),
    help="results file [build/reportgen/<version>/results.json]",
)
@click.option("--version", "version", help="report version label (overrides the config)")
def run(config_path: str, out: str | None, version: str | None) -> None:
    """Measure every backend and write the results JSON (no site)."""
    from reportgen.results import write_results

    config = _load(config_path, version, None)
    document = _measure(config, config_path)
    path = Path(out or Path("build") / "reportgen" / config.version / "results.json")
    write_results(path, document)
    console.print(f"results: {path}")


@cli.command()
@click.option("-c", "--config", "config_path", default="configs/demo.yaml", show_default=True)
@click.option("--version", "version", help="report version label (overrides the config)")
@click.option("--locale", type=click.Choice(["en", "ko"]), help="report language (overrides the config)")
@click.option("--force", is_flag=True, help="replace an existing version of the report")
def build(config_path: str, version: str | None, locale: str | None, force: bool) -> None:
    """Measure, then render the report into the site archive."""
    from reportgen import site

    config = _load(config_path, version, locale)
    site_dir = Path(config.site.dir)
    site.ensure_version_free(site_dir, config.version, force)  # fail before minutes of measuring
    document = _measure(config, config_path)
    page = site.build_site(site_dir, document, Path(config_path).read_text(encoding="utf-8"), force=force)
    console.print(f"report: {page}")


@cli.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--site-dir", default="site", show_default=True)
@click.option("--force", is_flag=True, help="replace an existing version of the report")
def render(results: tuple[str, ...], site_dir: str, force: bool) -> None:
    """Render results JSON files into the site archive."""
    from reportgen import site
    from reportgen.results import read_results

    for path in results:
        page = site.build_site(Path(site_dir), read_results(Path(path)), None, force=force)
        console.print(f"report: {page}")


def main() -> None:
    """Run the CLI; a ReportgenError becomes one line on stderr and its exit code, no traceback."""
    try:
        cli.main(standalone_mode=False)
    except ReportgenError as e:
        console.print(f"[red]error:[/red] {e}", soft_wrap=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        console.print("aborted")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
