"""The regression gate: compare two results documents per backend and metric, judge each change.

Latency is judged from intervals, not from two medians: a slowdown counts only when it is larger than
``analysis.regression_latency_pct`` *and* the 95% interval of the change lies beyond
``analysis.speed_tolerance_pct``, so the noise between processes and runs never fails a build. The
two runs were timed at different moments; where the same reference ran beside every backend in both,
a backend's change is measured against it (paired inside each run, the machine's states cancelled),
else unpaired over the rounds (``_latency``). Parity lost, accuracy down and file size up
are judged against the other ``analysis.regression_*`` thresholds and ``parity.min_match_rate``.
Versions merged from several machines are compared machine by machine (``compare_machines``), never
one machine with another.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TypeGuard, cast

from reportgen.analysis.assess import Verdict, assess
from reportgen.analysis.comparable import backend_change, run_changes
from reportgen.analysis.verdicts import FASTER, SLOWER, Thresholds, speed_verdict
from reportgen.analysis.verdicts import SAME as SAME_SPEED
from reportgen.config.schema import load_config, parse_config
from reportgen.errors import ConfigError, ResultsError
from reportgen.report.locale import DASH, fmt_mb, fmt_ms, fmt_pct, fmt_rate, fmt_sci
from reportgen.results import merge
from reportgen.results.document import is_merged, machine_documents, read_results
from reportgen.results.schema import Backend, Document, Measured, Merged, Parity
from reportgen.results.schema import measured as as_measured
from reportgen.results.version import is_version_label
from reportgen.stats import relative_speedup, unpaired_speedup

# The reference is the same code in both runs when these of the model agree (and its threads and settings).
YARDSTICK_MODEL_KEYS = ("name", "source", "parameters", "flops", "input_shape", "inputs", "checkpoint")
# Fractions in [0, 1]; a change is measured in percentage points.
ACCURACY_METRICS = ("map50", "map50_95", "mask_map50", "precision", "recall")
# Status of a row: only "regression" fails the gate.
REGRESSION, IMPROVED, SAME, INFO, ADDED, REMOVED = (
    "regression",
    "improved",
    "same",
    "info",
    "added",
    "removed",
)


def locate(arg: str, site_dir: Path) -> Path:
    """Return the results file that `arg` names: a file, a version folder, or a version in site_dir."""
    path = Path(arg)
    if path.is_file():
        return path
    if path.is_dir() and (path / "results.json").is_file():
        return path / "results.json"
    archived = Path(site_dir) / arg / "results.json"
    if is_version_label(arg) and archived.is_file():
        return archived
    raise ResultsError(f"{arg}: no such results file, and no version {arg!r} in {site_dir}/")


def thresholds_for(new: Document, new_path: Path, config_path: str | None) -> Thresholds:
    """Return the thresholds of the config file given, else of the config stored in the NEW results."""
    if config_path is not None:
        return Thresholds.from_config(load_config(config_path, check_files=False))
    try:
        # Keys added since the document was written take their defaults.
        return Thresholds.from_config(parse_config(new["config"], f"{new_path}: config"))
    except ConfigError as e:
        first = str(e).splitlines()[0]
        raise ResultsError(f"{first} (the config stored in the results); pass -c CONFIG") from None


def compare_files(old_arg: str, new_arg: str, site_dir: Path, config_path: str | None = None) -> dict:
    """Locate, read and compare two results documents (files or archived versions).

    Both are checked whole as they are read (a bad file: one line, exit 2, no verdict). When either
    is merged from several machines, they are compared machine by machine."""
    old_path, new_path = locate(old_arg, site_dir), locate(new_arg, site_dir)
    old, new = read_results(old_path), read_results(new_path)
    if is_merged(old) or is_merged(new):
        # The thresholds come from one config: the machines of a version share the run's config.
        first = machine_documents(new)[0]
        report = compare_machines(old, new, thresholds_for(first, new_path, config_path))
    else:
        report = compare(old, new, thresholds_for(new, new_path, config_path))
    report["old"]["path"], report["new"]["path"] = str(old_path), str(new_path)
    return report


def compare(old: Document, new: Document, thresholds: Thresholds) -> dict:
    """Return every backend's changes from OLD to NEW, each judged, and the regressions among them."""
    rows: list[dict] = []
    names = list(new["backend_order"]) + [n for n in old["backend_order"] if n not in new["backend_order"]]
    # Like with like: another model, task or inputs leaves nothing to judge (analysis/comparable.py).
    run = run_changes(old, new)
    if run:
        rows = [_row(None, c.what, c.old, c.new, INFO, c.sentence()) for c in run]
        names = []
    # Each side's answers as its page judges them, by today's rules and the gate's thresholds.
    answers = [{n: b.answers for n, b in assess(doc, thresholds).backends.items()} for doc in (old, new)]
    thresholds = _familywise(thresholds, old, new)
    # A reference with other settings is no yardstick: the others' changes are judged unpaired.
    same_reference = backend_change(old, new, new["reference"]) is None
    yardstick = _yardstick(old, new) if same_reference else None
    disturbed = _disturbed(old, new, thresholds)
    for name in names:
        before, after = old["backends"].get(name), new["backends"].get(name)
        if before is None:
            assert after is not None  # names are the backends of OLD or NEW
            rows.append(_row(name, "status", None, after["status"], ADDED, "not measured in OLD"))
        elif after is None:
            rows.append(_row(name, "status", before["status"], None, REMOVED, "not measured in NEW"))
        elif changed := backend_change(old, new, name):  # its own settings changed: not judged
            rows.append(_row(name, "settings", changed.old, changed.new, INFO, changed.sentence()))
        else:
            verdicts = (answers[0].get(name), answers[1].get(name))
            measured = yardstick if yardstick and name != new["reference"] else None
            rows += _backend_rows(name, before, after, thresholds, verdicts, measured, disturbed)
    regressions = [r for r in rows if r["status"] == REGRESSION]
    return {
        "old": _side(old),
        "new": _side(new),
        "thresholds": _gate(thresholds),
        "rows": rows,
        "regressions": len(regressions),
        "notes": _notes(old, new),
        "not_compared": [c.sentence() for c in run],  # another model, task or inputs: nothing judged
    }


def _familywise(th: Thresholds, old: Document, new: Document) -> Thresholds:
    """Return the thresholds with each backend's latency interval widened for the number compared.

    One gate judges every backend at once: at 95% each, eight noisy backends would fail one release
    in three by chance. Bonferroni's correction keeps the chance of any false regression at 5% (asv
    does the same job with p < 0.002 over its many benchmarks).
    """
    timed = [n for n in new["backends"] if _timed(old["backends"].get(n)) and _timed(new["backends"][n])]
    return replace(th, confidence=1 - (1 - th.confidence) / max(len(timed), 1))


def _timed(backend: Backend | None) -> TypeGuard[Backend]:
    return backend is not None and backend["status"] == "ok"  # a successful backend was timed


def compare_machines(old: Document | Merged, new: Document | Merged, thresholds: Thresholds) -> dict:
    """Return the changes from OLD to NEW machine by machine (either may be merged): each machine is
    compared with the machine of the same label (merge.machine_label), never with another one; a
    machine measured on one side only is reported as added or removed, not judged."""
    rows: list[dict] = []
    notes: list[str] = []
    not_compared: list[str] = []
    pairs = merge.matched(old, new)
    for label, before, after in pairs:
        if before is None or after is None:
            either = before or after
            assert either is not None  # a matched pair holds at least one of the two machines
            cpu = either["environment"]["cpu"]
            if before is None:
                row = _row(None, "machine", None, cpu, ADDED, "machine not measured in OLD")
            else:
                row = _row(None, "machine", cpu, None, REMOVED, "machine not measured in NEW")
            rows.append({**row, "machine": label})
            continue
        part = compare(before, after, thresholds)
        rows += [{**row, "machine": label} for row in part["rows"]]
        notes += [f"{label}: {note}" for note in part["notes"]]
        not_compared += [f"{label}: {line}" for line in part["not_compared"]]
    return {
        "old": _side(old),
        "new": _side(new),
        "thresholds": _gate(thresholds),
        "machines": [label for label, _, _ in pairs],
        "rows": rows,
        "regressions": sum(r["status"] == REGRESSION for r in rows),
        "notes": notes,
        "not_compared": not_compared,
    }


def _side(doc: Document | Merged) -> dict:
    return {"version": doc["version"], "created_at": doc["created_at"], "path": None}


def _row(backend, metric, old, new, status, detail, texts=None, interval=None) -> dict:
    old_text, new_text, change_text = texts or (_text(old), _text(new), "")
    return {
        "backend": backend,
        "metric": metric,
        "old": old,
        "new": new,
        "status": status,
        "detail": detail,
        "interval": interval,
        "text": {"old": old_text, "new": new_text, "change": change_text},
    }


def _text(value) -> str:
    return DASH if value is None else str(value)


def _backend_rows(
    name: str,
    before: Backend,
    after: Backend,
    th: Thresholds,
    answers: tuple[Verdict | None, Verdict | None],
    yardstick: tuple[Backend, Backend] | None,
    disturbed: str | None,
) -> list[dict]:
    if before["status"] != "ok" or after["status"] != "ok":
        status = REGRESSION if before["status"] == "ok" else IMPROVED if after["status"] == "ok" else INFO
        if "unavailable" in (before["status"], after["status"]):  # no GPU on one side: not measured, not lost
            status = INFO
        detail = after["error"] or before["error"] or ""
        return [_row(name, "status", before["status"], after["status"], status, detail)]
    ok_before, ok_after = as_measured(before), as_measured(after)
    assert ok_before is not None and ok_after is not None  # both "ok": every measurement is there
    rows = [
        _latency(name, ok_before, ok_after, th, yardstick, disturbed),
        *_parity(name, before, after, answers),
    ]
    for metric in ACCURACY_METRICS:
        rows += _accuracy(name, metric, ok_before, ok_after, th)
    rows.append(_size(name, before, after, th))
    peak_old, peak_new = ok_before["memory_mb"]["peak"], ok_after["memory_mb"]["peak"]
    if peak_old is not None or peak_new is not None:
        change = fmt_pct(peak_new / peak_old - 1) if peak_old and peak_new else DASH
        texts = (fmt_mb(peak_old), fmt_mb(peak_new), change)
        rows.append(_row(name, "memory_peak_mb", peak_old, peak_new, INFO, "not gated", texts))
    return rows


def _latency(
    name: str,
    before: Measured,
    after: Measured,
    th: Thresholds,
    yardstick: tuple | None,
    disturbed: str | None,
) -> dict:
    """Judge a backend's latency change from OLD to NEW.

    Two documents were measured at different moments, so none of their slices pair. Where the same
    reference (``yardstick``: OLD's and NEW's reference entries) ran beside every backend in both runs,
    a backend's change is judged relative to it: the ratio of its paired speed-ups, which cancels the
    machine's speed states of both runs (stats.relative_speedup). Otherwise, and for the reference
    itself, the medians are compared unpaired, with the machine's states inside the interval. A run
    that other processes disturbed (``disturbed`` says which) is not judged on speed, and says so.
    """
    # Both succeeded, so both were timed (the reader guarantees it): a positive median each.
    old_ms, new_ms = before["latency_ms"]["median"], after["latency_ms"]["median"]
    change = new_ms / old_ms - 1
    if yardstick is not None:
        estimate = relative_speedup(yardstick[0], before, yardstick[1], after, th.confidence)
        how = "against the same reference timed beside it in both runs"
    else:
        estimate = unpaired_speedup(before, after, th.confidence)
        how = _unpaired(min(len(before["rounds"]), len(after["rounds"])))
    judged = 1 / estimate.value - 1  # > 0: slower
    interval = [1 / estimate.high, 1 / estimate.low]  # shown as new / old, > 1 slower
    verdict = speed_verdict((estimate.low, estimate.high), th.speed_tol)
    if judged > th.regression_latency and verdict == SLOWER:
        status = REGRESSION
    elif judged < -th.regression_latency and verdict == FASTER:
        status = IMPROVED
    else:
        status = SAME
    low, high = (fmt_pct(x - 1) for x in interval)
    detail = f"{fmt_pct(judged)}, {100 * th.confidence:.3g}% CI {low} to {high}, {how}"
    if verdict == SAME_SPEED:
        detail = f"within the noise ({detail})"
    if disturbed and status != SAME:
        status, detail = INFO, f"not judged: {disturbed} ({detail})"
    threads_old, threads_new = before["threads"], after["threads"]
    if threads_old != threads_new:
        detail += f"; threads {threads_old} -> {threads_new}"
    texts = (fmt_ms(old_ms), fmt_ms(new_ms), fmt_pct(change))
    return _row(name, "latency_median_ms", old_ms, new_ms, status, detail, texts, interval)


def _disturbed(old: Document, new: Document, th: Thresholds) -> str | None:
    """Return which run other processes disturbed beyond ``analysis.max_other_cpu_share``, or None."""
    for label, doc in (("OLD", old), ("NEW", new)):
        share = doc["environment"]["other_cpu_share"]
        if share is not None and share > th.max_other_cpu_share:
            took, limit = (f"{100 * x:.0f}%" for x in (share, th.max_other_cpu_share))
            return f"other processes took {took} of the CPU during {label} (over {limit})"
    return None


def _unpaired(rounds: int) -> str:
    if rounds == 1:
        return "of one process: ignores the variance between processes"
    return f"over {rounds} rounds, unpaired: the machine's speed states of both runs stay in it"


def _yardstick(old: Document, new: Document) -> tuple[Backend, Backend] | None:
    """Return OLD's and NEW's reference entries when the reference is the same code in both runs (same
    model, weights file, inputs, torch, threads and settings) and both were timed in paired slices;
    else None: then no backend's change can be measured against it."""
    ref_old, ref_new = (doc["backends"].get(doc["reference"]) for doc in (old, new))
    if old["reference"] != new["reference"] or not (_timed(ref_old) and _timed(ref_new)):
        return None
    if not (ref_old.get("slices") and ref_new.get("slices")):
        return None
    same_model = all(old["model"].get(k) == new["model"].get(k) for k in YARDSTICK_MODEL_KEYS)
    same_run = ref_old["threads"] == ref_new["threads"] and ref_old["settings"] == ref_new["settings"]
    return (ref_old, ref_new) if same_model and same_run else None


def _parity_text(parity: Parity | None, verdict: Verdict | None) -> str:
    if not parity or verdict is None:
        return DASH
    diff, rate = fmt_sci(parity["max_abs_diff"]), fmt_rate(parity.get("detection_match_rate"))
    return f"{verdict.severity} (max |diff| {diff}, matched {rate})"


def _parity(
    name: str, before: Backend, after: Backend, answers: tuple[Verdict | None, Verdict | None]
) -> list[dict]:
    """Judge the answers as the report's badge does: kept unless its verdict fails (a reduced precision
    whose answers moved within its allowance is a warning, not lost parity)."""
    old_p, new_p = before["parity"], after["parity"]
    if not old_p and not new_p:
        return []  # the reference: compared to itself
    old_ok, new_ok = (
        None if not p or v is None else v.severity != "fail" for p, v in zip((old_p, new_p), answers)
    )
    if old_ok and new_ok is False:
        status, detail = REGRESSION, "parity lost"
    elif old_ok is False and new_ok:
        status, detail = IMPROVED, "parity regained"
    elif old_ok is None or new_ok is None:
        status, detail = INFO, "not compared in both"
    else:
        status, detail = SAME, "" if new_ok else "failing in both"
    texts = (_parity_text(old_p, answers[0]), _parity_text(new_p, answers[1]), "")
    return [_row(name, "parity", old_ok, new_ok, status, detail, texts)]


def _accuracy(name: str, metric: str, before: Measured, after: Measured, th: Thresholds) -> list[dict]:
    # as the task has them (a metric read by a computed key: a number or None)
    old_v, new_v = (cast("float | None", b["metrics"].get(metric)) for b in (before, after))
    if old_v is None and new_v is None:
        return []  # e.g. no mAP without labels
    if old_v is None or new_v is None:
        texts = (fmt_rate(old_v), fmt_rate(new_v), DASH)
        return [_row(name, metric, old_v, new_v, INFO, "not measured in both", texts)]
    points = (new_v - old_v) * 100
    if points < -th.regression_accuracy_points:
        status = REGRESSION
    elif points > th.regression_accuracy_points:
        status = IMPROVED
    else:
        status = SAME
    texts = (fmt_rate(old_v), fmt_rate(new_v), f"{points:+.1f} pts" if round(points, 1) else "0.0 pts")
    return [_row(name, metric, old_v, new_v, status, "", texts)]


def _size(name: str, before: Backend, after: Backend, th: Thresholds) -> dict:
    old_mb, new_mb = before["file_size_mb"], after["file_size_mb"]
    if not old_mb or not new_mb:
        texts = (fmt_mb(old_mb), fmt_mb(new_mb), DASH)
        return _row(name, "file_size_mb", old_mb, new_mb, INFO, "not measured in both", texts)
    change = new_mb / old_mb - 1
    limit = th.size_tol
    status = REGRESSION if change > limit else IMPROVED if change < -limit else SAME
    detail = ""
    if before["weight_dtype"] != after["weight_dtype"]:
        detail = f"weights {before['weight_dtype']} -> {after['weight_dtype']}"
    texts = (fmt_mb(old_mb), fmt_mb(new_mb), fmt_pct(change))
    return _row(name, "file_size_mb", old_mb, new_mb, status, detail, texts)


def _notes(old: Document, new: Document) -> list[str]:
    notes = []
    cpu_old, cpu_new = old["environment"]["cpu"], new["environment"]["cpu"]
    if cpu_old != cpu_new:
        notes.append(f"OLD ran on {cpu_old!r}, NEW on {cpu_new!r}: latency changes may come from the machine")
    if old["reference"] != new["reference"]:
        notes.append(f"the reference backend changed: {old['reference']} -> {new['reference']}")
    return notes


# --- output ----------------------------------------------------------------------------------------


def _gate(th: Thresholds) -> dict:
    """Return the thresholds the gate applies, as the JSON report states them."""
    return {
        "latency_pct": th.regression_latency * 100,
        "speed_tolerance_pct": th.speed_tol * 100,
        "accuracy_points": th.regression_accuracy_points,
        "size_pct": th.size_tol * 100,
        "min_match_rate": th.min_match_rate,
        "confidence": th.confidence,
    }
