"""What a page shows, as plain data built from results documents: the report's headline table, its
files, changes since the previous version and appendix, put together with the verdicts and findings
(narrative.py), the quality section (quality.py), the score (score.py) and the charts (charts.py);
the machines of a merged version (merge.py), each with its own view; and one row of the index per
version. Templates only lay this out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from reportgen.analysis import comparable, score
from reportgen.analysis.assess import Assessment, assess
from reportgen.analysis.finding import speedup_of
from reportgen.analysis.verdicts import Thresholds, dig, is_ok, ordered
from reportgen.analysis.vocabulary import vocabulary
from reportgen.config.backends import TORCH_KINDS
from reportgen.report import answer_charts, charts, narrative, quality, time_view
from reportgen.report.cells import Metric, change
from reportgen.report.locale import DASH, Locale
from reportgen.results.document import is_merged
from reportgen.results.merge import labelled
from reportgen.results.schema import Document, Merged

# libyaml's dumper writes the same text as the pure-Python one, fifteen times faster (bench_render.py).
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
HEADLINE = (
    Metric("detections_per_image", ("metrics", "detections_per_image"), "num", "same", "quality"),
    Metric("mean_confidence", ("metrics", "mean_confidence"), "num", "same", "quality"),
    Metric("detection_rate", ("metrics", "detection_rate"), "rate", "same", "quality"),
    Metric("map50", ("metrics", "map50"), "num", "higher", "accuracy"),
    Metric("map50_95", ("metrics", "map50_95"), "num", "higher", "accuracy"),
    Metric("mask_map50", ("metrics", "mask_map50"), "num", "higher", "accuracy"),
    Metric("miou", ("metrics", "miou"), "num", "higher", "accuracy"),
    Metric("pixel_accuracy", ("metrics", "pixel_accuracy"), "rate", "higher", "accuracy"),
    Metric("top1_accuracy", ("metrics", "top1_accuracy"), "rate", "higher", "accuracy"),
    Metric("top5_accuracy", ("metrics", "top5_accuracy"), "rate", "higher", "accuracy"),
    Metric("fps", ("fps",), "num", "higher", "speed"),
    Metric("latency_median", ("latency_ms", "median"), "ms", "lower", "speed"),
    Metric("memory_peak", ("memory_mb", "peak"), "mb", "lower", "memory"),
    Metric("file_size", ("file_size_mb",), "mb", "lower", "size"),
)
CHANGES = (
    Metric("latency_median", ("latency_ms", "median"), "ms", "lower", "speed"),
    Metric("speedup", ("speedup",), "ratio", "higher", "speed"),
    Metric("map50", ("metrics", "map50"), "num", "higher", "accuracy"),
    Metric("miou", ("metrics", "miou"), "num", "higher", "accuracy"),
    Metric("top1_accuracy", ("metrics", "top1_accuracy"), "rate", "higher", "accuracy"),
    Metric("memory_peak", ("memory_mb", "peak"), "mb", "lower", "memory"),
    Metric("file_size", ("file_size_mb",), "mb", "lower", "size"),
    Metric("max_abs_diff", ("parity", "max_abs_diff"), "sci", "lower", "parity"),
)


def headline(results: Document, judged: Assessment, loc: Locale) -> list[dict]:
    """Return the headline table: per metric, the reference's value and each backend's with its change."""
    (ref_name, ref), *others = ordered(results)
    th, rows, vocab = judged.thresholds, [], vocabulary(results)
    words = quality.words(results, loc)  # the throughput's unit in metric.fps
    for m in HEADLINE:
        if m.path[-1] in quality.TOP5 and not vocab.top5:
            continue  # 100% by construction with five classes or fewer
        fmt = getattr(loc, m.kind)
        values = {name: dig(b, m.path) for name, b in ordered(results)}
        if all(v is None for v in values.values()):
            continue  # no mask mAP for detection, no mAP for classification, none without labels
        cells = []
        for name, b in others:
            if not is_ok(b) or not is_ok(ref):
                state = judged.backends[name].state
                value = narrative.part(state, loc)["short"] if state and not is_ok(b) else fmt(values[name])
                severity = "info" if b["status"] == "unavailable" and is_ok(ref) else "fail"
                failed = {"change": DASH, "severity": severity, "label": loc.t("change.not_comparable")}
                cells.append({"backend": name, "value": value, **failed})
                continue
            speed = judged.speedups.get(name) if m.tolerance == "speed" else None
            interval = (speed.low, speed.high) if speed else None
            cell = change(values[ref_name], values[name], m, th, loc, interval)
            answers = judged.backends[name].answers
            if m.tolerance in ("quality", "accuracy") and answers and answers.code == "answers.withheld":
                # The reference's answers are empty or constant (analysis/nothing.py): 0 against 0 is
                # no evidence of "no change".
                cell.update(change=DASH, severity="info", label=loc.t("badge.answers.withheld"))
            if (
                m.id == "file_size"
                and cell["severity"] == "warn"
                and b["weight_dtype"] != ref["weight_dtype"]
            ):
                cell.update(severity="info", label=loc.t("change.precision"))
            cells.append({"backend": name, "value": fmt(values[name]), **cell})
        rows.append(
            {
                "id": m.id,
                "label": loc.t(m.label, **words),
                "better": loc.t(f"better.{m.better}"),
                "reference": fmt(values[ref_name]) if is_ok(ref) else loc.t(f"status.{ref['status']}"),
                "cells": cells,
            }
        )
    return rows


def changes(results: Document, previous: Document, th: Thresholds, loc: Locale) -> dict:
    """Return, per backend measured in both versions with the same model, task, inputs and settings,
    each CHANGES metric before and after; and what changed where they differ (not compared)."""
    run = comparable.run_changes(previous, results)  # the model, task or inputs: no backend is compared
    own = [c for n in results["backend_order"] if (c := comparable.backend_change(previous, results, n))]
    differ, skipped = run + own, set(results["backends"]) if run else {c.backend for c in own}
    both = [(n, b, previous["backends"].get(n)) for n, b in ordered(results) if n not in skipped]
    both = [(n, b, old) for n, b, old in both if is_ok(b) and is_ok(old)]
    metrics = [
        m
        for m in CHANGES
        if any(_value(results, n, m) is not None or _value(previous, n, m) is not None for n, _, _ in both)
        # A speed-up and an output difference are relative to the reference: against a reference with
        # other settings they move with the reference, not with the backend.
        and not (m.id in ("speedup", "max_abs_diff") and results["reference"] in skipped)
    ]
    rows, words = [], quality.words(results, loc)
    for name, b, old in both:
        cells = []
        for m in metrics:
            before, after = _value(previous, name, m), _value(results, name, m)
            fmt = getattr(loc, m.kind)
            cell = {"old": fmt(before), "new": fmt(after), **change(before, after, m, th, loc)}
            was, now = dig(old, ("parity", "allclose")), dig(b, ("parity", "allclose"))
            if m.tolerance == "parity" and before is not None and after is not None and was == now:
                # What matters is whether the outputs stay within the tolerance, not a tiny drift.
                cell.update(severity="pass" if now else "info", label=loc.t("change.same"))
            cells.append(cell)
        rows.append({"backend": name, "cells": cells})
    names, old_names = set(results["backends"]), set(previous["backends"])
    return {
        "metrics": [loc.t(m.label, **words) for m in metrics],
        "rows": rows,
        "added": [n for n in results["backend_order"] if n not in old_names],
        "removed": [n for n in previous["backend_order"] if n not in names],
        "not_compared": [
            loc.t(_NOT_COMPARED[c.what], backend=c.backend or "", old=c.old, new=c.new) for c in differ
        ],
    }


# What changed between two versions (analysis/comparable.Change.what), as the changes section says it.
_NOT_COMPARED = {
    "model": "changes.not_compared.model",
    "task": "changes.not_compared.task",
    "inputs": "changes.not_compared.inputs",
    "settings": "changes.not_compared.settings",
}


def _value(results: Document, name: str, m: Metric) -> object:
    """Return a backend's value of a metric; the speed-up is the analysis's estimate (stats.speedup)."""
    if m.id == "speedup":
        measured = speedup_of(results, name) if name != results["reference"] else None
        return measured.value if measured else None
    return dig(results["backends"][name], m.path)


def files(results: Document) -> list[dict]:
    """Return the model file of each backend with the share of its weight bytes per dtype."""
    model = results["model"]
    rows = []
    for name, b in ordered(results):
        if not is_ok(b):
            rows.append({"backend": name, "failed": True, "status": b["status"], "error": b["error"]})
            continue
        # Documents before per-backend files: the checkpoint for PyTorch, the ONNX file otherwise.
        shared: Mapping[str, Any] = (model["checkpoint"] if b["kind"] in TORCH_KINDS else model["onnx"]) or {}
        dtypes = b["weight_dtypes"] or shared.get("dtypes") or {}
        total = sum(dtypes.values())
        breakdown = sorted(dtypes.items(), key=lambda kv: (-kv[1], kv[0])) if total else []
        rows.append(
            {
                "backend": name,
                "failed": False,
                "path": b["model_path"] or shared.get("path"),
                "size": b["file_size_mb"],
                "dtype": b["weight_dtype"],
                "breakdown": [(dtype, n / total) for dtype, n in breakdown],
            }
        )
    return rows


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def appendix(results: Document) -> dict:
    """Return the method appendix: settings per backend as one matrix, and the config as YAML."""
    settings = [b["settings"] or {} for _, b in ordered(results)]
    keys = sorted({k for s in settings for k in s})
    return {
        "settings": [(key, [_text(s[key]) if key in s else DASH for s in settings]) for key in keys],
        "config_yaml": yaml.dump(results["config"], Dumper=_DUMPER, sort_keys=True, allow_unicode=True),
    }


def report_view(results: Document, previous: Document | None, loc: Locale) -> dict:
    """Return everything report.html shows beyond the results document itself."""
    judged = assess(results)
    th, scores = judged.thresholds, list(judged.scores)
    backends, vocab, words = ordered(results), vocabulary(results), quality.words(results, loc)
    verdicts = narrative.verdicts(judged, loc)
    found = narrative.findings_view(judged, loc)
    best = narrative.recommended(judged)
    figures = {
        "latency": charts.latency_figure(results, loc),
        "rounds": charts.rounds_figure(results, loc),
        "states": charts.states_figure(results, loc),
        "fps": charts.fps_figure(results, judged.speedups, loc, words["rate"]),
        "batch": charts.batch_figure(results, loc),
        "memory": charts.memory_figure(results, loc),
        "size": charts.size_figure(results, loc),
        "agreement": answer_charts.agreement_figure(results, th.min_match_rate, loc, vocab.top5),
        "confidence": answer_charts.confidence_delta_figure(results, loc),
        "score": charts.score_figure(scores, score.WEIGHTS, loc),
        "time": time_view.figure(results, loc),
    }
    dtypes = {b["weight_dtype"] for _, b in backends if is_ok(b)}
    flops, peak = results["model"]["flops"], results["environment"]["peak_gflops"]
    return {
        "thresholds": th,
        "backends": backends,
        "candidates": backends[1:],
        "colors": {name: i for i, name in enumerate(results["backend_order"])},
        "verdicts": verdicts,
        "unmeasured": narrative.unmeasured(results, judged, loc),  # what tables show of a failed backend
        "bottom_line": narrative.bottom_line(results, judged, found, loc),
        "recommended": best[0] if best else None,
        "headline": headline(results, judged, loc),
        "speedups": judged.speedups,
        "findings": found,
        "vocabulary": vocab,
        "words": words,
        "dataset": quality.dataset_sentence(results, loc),
        "metrics": quality.metric_rows(results, loc),
        "per_class": quality.per_class(results, loc),
        "pixel_changes": quality.pixel_changes(results, loc),
        # The export's own line is the top finding's evidence (analysis/steps.py): not a third copy.
        "export_told": any(f["key"] == "backend.step/export" for f in judged.findings),
        "parity": quality.parity_table(results, th, loc),
        "outputs": quality.outputs(results),
        "divergences": quality.divergences(results),
        "examples": quality.examples(results, th, loc),
        "files": files(results),
        "flops_gflop": flops / 1e9 if flops else None,
        "efficiency": {"peak": peak, "gflop": flops / 1e9} if flops and peak else None,
        "scores": scores,
        "weights": score.WEIGHTS,
        "conclusion": narrative.conclusion(results, judged, found, loc),
        "changes": changes(results, previous, th, loc) if previous else None,
        "fp16_vs_fp32": {"float16", "float32"} <= dtypes,
        "batch": batch_table(results),
        "figures": charts.localized(figures, loc),
        "appendix": appendix(results),
        "timing": timing(results, loc),
        "states_caption": charts.states_caption(results, loc),
        "time": time_view.view(results),
    }


# Why the timed rounds stopped (timing.stopped), as the method appendix says it.
_STOPPED = {
    "precision": "method.timing.precision",
    "budget": "method.timing.budget",
    "nothing-to-pair": "method.timing.nothing_to_pair",
    "reference-failed": "method.timing.reference_failed",
}


def timing(results: Document, loc: Locale) -> str | None:
    """Return how the run timed its backends (schema 4's paired slices) and why it stopped; None for
    a document timed before slices."""
    found = results["timing"]
    if found is None:
        return None
    return loc.t(
        _STOPPED[found["stopped"]],
        rounds=loc.num(found["rounds"]),
        slice_s=loc.num(found.get("slice_s")),
        pause_ms=loc.fixed((found.get("pause_s") or 0) * 1000, 0),
        reached=loc.rate(found.get("precision_reached")),
        target=loc.rate(found.get("precision")),
        max_time_s=loc.fixed(found.get("max_time_s"), 0),
    )


def batch_table(results: Document) -> dict | None:
    """Return every backend's cell per batch size (config order), or None when one size was measured."""
    sizes = results["config"]["measurement"].get("batch_sizes") or [1]
    if len(sizes) < 2:
        return None
    rows = [
        (name, [(b.get("by_batch_size") or {}).get(str(size), _NOT_RUN) for size in sizes])
        for name, b in ordered(results)
        if b["status"] == "ok"
    ]
    return {"sizes": sizes, "rows": rows}


_NOT_RUN = {"status": "failed", "error": None}


def _summary(verdicts: list[dict], loc: Locale) -> list[dict]:
    """Return how many backends got each answers and speed verdict, as badges."""
    counts: dict[str, tuple[str, int]] = {}  # code -> (severity, how many backends)
    for v in verdicts:
        for part in v["parts"][:2]:  # answers and speed; sizes rarely change between versions
            counts[part["code"]] = (part["severity"], counts.get(part["code"], ("", 0))[1] + 1)
    return [
        {"severity": severity, "text": loc.t(f"index.count.{code}", count=loc.num(n))}
        for code, (severity, n) in counts.items()
    ]


def _parity(verdicts: list[dict]) -> str:
    """Return the parity status of a run: fail if any backend fails, warn if any is not a pass."""
    answers = [v["parts"][0]["severity"] for v in verdicts]
    return "fail" if "fail" in answers else ("warn" if set(answers) - {"pass"} else "pass")


def _best(judged: Assessment, loc: Locale) -> dict | None:
    best = narrative.recommended(judged)
    return {"backend": best[0], "speedup": loc.ratio(best[1])} if best else None


def machine_anchor(label: str) -> str:
    """Return the id of a machine's section on a merged page."""
    return f"machine-{label}"


def _machine(label: str, results: Document, loc: Locale) -> dict:
    """Return what the overview and the index say of one machine: its own numbers only."""
    judged = assess(results)
    verdicts = narrative.verdicts(judged, loc)
    return {
        "label": label,
        "anchor": machine_anchor(label),
        "environment": results["environment"],
        "reference": results["reference"],
        "best": _best(judged, loc),
        "parity": _parity(verdicts),
        "summary": _summary(verdicts, loc),
    }


def merged_view(merged: Merged, loc: Locale) -> list[dict]:
    """Return each machine of a merged document: its overview row, its document and its report view."""
    return [
        {**_machine(label, machine, loc), "results": machine, "view": report_view(machine, None, loc)}
        for label, machine in labelled(merged)
    ]


def index_row(results: Document | Merged, loc: Locale) -> dict:
    """Return one version's row of the index: its verdicts, recommendation and parity status.

    A merged version lists its machines instead, each with its own recommendation and parity."""
    if is_merged(results):
        machines = [_machine(label, machine, loc) for label, machine in labelled(results)]
        first = results["machines"][0]
        return {
            "version": results["version"],
            "title": results["title"],
            "model": first["model"]["name"],
            "reference": first["reference"],
            "verdicts": [],
            "summary": [],
            "best": None,
            "parity": None,
            "machines": machines,
        }
    judged = assess(results)
    verdicts = narrative.verdicts(judged, loc)
    return {
        "version": results["version"],
        "title": results["title"],
        "model": results["model"]["name"],
        "reference": results["reference"],
        "verdicts": verdicts,
        "summary": _summary(verdicts, loc),
        "best": _best(judged, loc),
        "parity": _parity(verdicts),
        "machines": None,
    }
