"""Render the report's pages to strings: one Jinja2 environment, a version's page, the index.

What a page shows is decided in reportgen/report/pages.py (and charts.py); this module renders it.
The archive on disk (site/<version>/, site/index.html, site/assets/) is reportgen/release/archive.py's.
A version may be merged from several machines (reportgen/results/merge.py): one page, a section per
machine.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from urllib.parse import quote

import jinja2

from reportgen.errors import ReportgenError
from reportgen.report import charts, pages, trends
from reportgen.report.locale import FILTER_NAMES, Locale, get_locale
from reportgen.results import merge
from reportgen.results.document import is_merged, machine_documents
from reportgen.results.schema import Document, Merged
from reportgen.shipped import templates_dir


def _filter(name: str):
    """Return a template filter that formats with the Locale method `name` of the page being rendered."""

    @jinja2.pass_context
    def apply(context: jinja2.runtime.Context, value: object, *args: object) -> str:
        return getattr(context["loc"], name)(value, *args)

    return apply


@jinja2.pass_context
def _t(context: jinja2.runtime.Context, key: str, **values: object) -> str:
    return context["loc"].t(key, **values)


@jinja2.pass_context
def _fmt(context: jinja2.runtime.Context, kind: str, value: object) -> str:
    return getattr(context["loc"], kind)(value)


def make_environment() -> jinja2.Environment:
    """Return the one Jinja2 environment: templates/, autoescaping, strict undefined, number filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({name: _filter(name) for name in FILTER_NAMES})
    env.globals.update(t=_t, fmt=_fmt)
    return env


@cache
def _environment() -> jinja2.Environment:
    return make_environment()


def _title(results: Document | Merged, loc: Locale) -> str:
    model = machine_documents(results)[0]["model"]["name"]
    return results["title"] or loc.t("report.default_title", model=model)


def render_report(
    results: Document | Merged,
    previous: Document | Merged | None = None,
    *,
    has_config: bool = True,
    locale: str | None = None,
) -> str:
    """Return the HTML page of one version; `previous` adds a "changes since" table.

    A merged document gets one page with a section per machine (and no changes table). `locale`
    overrides the document's language (the page only; the document is not changed)."""
    loc = get_locale(locale or results["locale"])
    if is_merged(results):
        return _render_merged(results, loc)
    if previous is not None and is_merged(previous):
        previous = merge.counterpart(previous, results)  # the same machine's numbers, or none
    view = pages.report_view(results, previous, loc)
    return (
        _environment()
        .get_template("report.html")
        .render(
            results=results,
            previous=previous,
            view=view,
            title=_title(results, loc),
            date=loc.date(_created(results)),
            loc=loc,
            locale=loc.code,
            root="../",
            has_config=has_config,
            has_charts=bool(view["figures"]),
            anchor="",
            h=2,
            per_machine=False,
        )
    )


def _render_merged(merged: Merged, loc: Locale) -> str:
    machines = pages.merged_view(merged, loc)
    return (
        _environment()
        .get_template("merged.html")
        .render(
            document=merged,
            machines=machines,
            title=_title(merged, loc),
            date=loc.date(_created(merged)),
            loc=loc,
            locale=loc.code,
            root="../",
            has_config=False,
            has_charts=any("latency" in m["view"]["figures"] for m in machines),
            h=3,
            per_machine=True,
        )
    )


def _created(results: Document | Merged) -> datetime:
    try:
        return datetime.fromisoformat(results["created_at"].replace("Z", "+00:00"))
    except (AttributeError, ValueError) as e:
        raise ReportgenError(
            f"version {results.get('version')}: bad created_at {results.get('created_at')!r}"
        ) from e


def _newest_first(all_results: list[Document | Merged]) -> list[Document | Merged]:
    return sorted(all_results, key=lambda r: (_created(r), r["version"]), reverse=True)


def render_index(all_results: list[Document | Merged]) -> str:
    """Return the archive page: every version newest first, with trend charts from two versions on.

    It speaks the language of the newest version."""
    if not all_results:
        raise ReportgenError("no versions to index")
    newest = _newest_first(all_results)
    loc = get_locale(newest[0]["locale"])
    rows = []
    for results in newest:
        row = pages.index_row(results, loc)
        created = _created(results)
        row.update(
            href=quote(results["version"]) + "/index.html",
            created_at=results["created_at"],
            date=loc.date(created),
        )
        rows.append(row)
    history = merge.trend_history(list(reversed(newest)))
    figures = trends.trend_figures(history, loc) if len(newest) >= 2 else {}
    figures = charts.localized(figures, loc)
    return (
        _environment()
        .get_template("index.html")
        .render(
            rows=rows,
            figures=figures,
            loc=loc,
            locale=loc.code,
            root="",
            has_charts=bool(figures),
            title=loc.t("index.title"),
        )
    )


def previous_version(results: Document | Merged, others: list[Document | Merged]) -> Document | Merged | None:
    """Return the version a page's "changes since" compares with: the newest older one that measured
    the same machine, if it is merged (a merged page itself has no changes table)."""
    if is_merged(results):
        return None
    older = [r for r in others if _created(r) < _created(results)]
    older = [r for r in older if not is_merged(r) or merge.counterpart(r, results) is not None]
    return _newest_first(older)[0] if older else None
