"""The words of a report: one verdict per backend, the findings in the page's language (grouped for the
key findings, the sections, the causes and the recommendations), the bottom line and the conclusion.
"""

from __future__ import annotations

from collections.abc import Mapping

from reportgen.analysis.assess import Assessment, BackendVerdicts, Verdict
from reportgen.analysis.finding import PARTS, Finding, composed_cause, ok_backends
from reportgen.analysis.variants import VARIANTS
from reportgen.analysis.verdicts import SEVERITY_ORDER, is_ok
from reportgen.analysis.vocabulary import fill
from reportgen.report.locale import DASH, Locale
from reportgen.results.schema import Document, measured


def _texts(values: Mapping[str, object], loc: Locale) -> dict[str, object]:
    """Return a verdict's values as its texts show them, in the page's language."""
    out: dict[str, object] = {}
    for key, value in values.items():
        if key in _FORMATS:
            out[key] = getattr(loc, _FORMATS[key])(value)
        elif key == "error":
            out[key] = value or DASH
        elif key != "measure":
            out[key] = value
    if "measure" in values:
        out["agreement"] = loc.t(f"agreement.{values['measure']}", rate=out["rate"])
    return out


# How a verdict's value is written (the rest as it is); "dtype" names are translated.
_FORMATS = {"ratio": "ratio", "max_abs": "sci", "rate": "rate", "dtype": "text", "reference_dtype": "text"}


def part(verdict: Verdict, loc: Locale) -> dict:
    """Return one verdict as the page shows it: its severity, sentence fragment, badge text and code."""
    texts = _texts(verdict.values, loc)
    return {
        "severity": verdict.severity,
        "code": verdict.code,
        "sentence": loc.t(f"verdict.{verdict.code}", **texts),
        "short": loc.t(f"badge.{verdict.code}", **texts),
    }


def verdict(judged: BackendVerdicts, loc: Locale) -> dict:
    """Return one sentence and its badges: same answers? faster? smaller? than the reference."""
    parts = [part(v, loc) for v in judged.badges]
    if judged.state is not None:
        return {"backend": judged.name, "sentence": parts[0]["sentence"], "parts": parts}
    answers, speed, size = parts
    sentence = loc.t(
        "verdict.sentence",
        backend=judged.name,
        answers=answers["sentence"],
        speed=speed["sentence"],
        size=size["sentence"],
    )
    return {"backend": judged.name, "sentence": sentence, "parts": parts}


def unmeasured(results: Document, judged: Assessment, loc: Locale) -> dict[str, str]:
    """Return, for every backend that did not run to the end, what a table shows in place of its
    numbers: "failed: <its error>", or only "not measured: the export failed" where a failed step's
    finding at the top already says why (said once, not in every table)."""
    out = {}
    for name, b in results["backends"].items():
        state = judged.backends[name].state if name in judged.backends else None
        if state is not None and state.code.startswith("not_measured."):
            out[name] = part(state, loc)["short"]
        elif b["status"] != "ok":
            out[name] = f"{loc.t('status.' + b['status'])}: {b['error'] or DASH}"
    return out


def verdicts(judged: Assessment, loc: Locale) -> list[dict]:
    """Return the verdict of every backend but the reference, in page order."""
    return [verdict(b, loc) for b in judged.backends.values()]


def recommended(judged: Assessment) -> tuple[str, float | None] | None:
    """Return the backend the analysis recommends and its speed-up (None: keep the reference)."""
    return judged.recommendation.uses if judged.recommendation else None


def localize(finding: Finding, loc: Locale) -> dict:
    """Return a finding with its texts in the page's language, from ``rule.<key>.*`` and its params."""
    out = {
        "id": finding["id"],
        "severity": finding["severity"],
        "backend": finding["backend"],
        "topic": VARIANTS[finding["key"]].topic,
    }
    for part in PARTS:
        message = f"rule.{finding['key']}.{part}"
        params = fill(finding["params"], loc.t)  # its nouns in the page's language
        out[part] = loc.catalog[message].format(**params) if loc.has(message) else None
    out["cause"] = composed_cause(finding["key"], out["cause"], finding.get("because"), loc.catalog)
    return out


def _grouped(findings: list[dict], part: str) -> list[dict]:
    """Group findings by one text part (a cause or a recommendation shared by several backends)."""
    groups: dict[str, dict] = {}
    for f in findings:
        if f[part]:
            group = groups.setdefault(f[part], {"text": f[part], "severity": f["severity"], "findings": []})
            group["findings"].append(f)
            if SEVERITY_ORDER[f["severity"]] < SEVERITY_ORDER[group["severity"]]:
                group["severity"] = f["severity"]
    # The analysis's own recommendation leads; then the most severe.
    return sorted(
        groups.values(),
        key=lambda g: (
            all(f["topic"] != "recommendations" for f in g["findings"]),
            SEVERITY_ORDER[g["severity"]],
        ),
    )


def findings_view(judged: Assessment, loc: Locale) -> dict:
    """Return the findings: the key ones, per section, and grouped by cause and by recommendation."""
    found = sorted((localize(f, loc) for f in judged.findings), key=lambda f: SEVERITY_ORDER[f["severity"]])
    # Key: every problem, the recommendation, whether the method holds, and what no section shows.
    is_key = [
        f["severity"] in ("fail", "warn")
        or f["topic"] in ("recommendations", "other")
        or (f["topic"] == "method" and f["severity"] == "pass")
        for f in found
    ]
    key = [f for f, k in zip(found, is_key) if k]
    by_topic: dict[str, list[dict]] = {}
    for f in found:
        by_topic.setdefault(f["topic"], []).append(f)
    return {
        "all": found,
        "key": key,
        "more": len(found) - len(key),
        "rest": [f for f, k in zip(found, is_key) if not k],  # a merged page folds them under the key ones
        "by_topic": by_topic,
        "counts": {s: sum(f["severity"] == s for f in found) for s in SEVERITY_ORDER},
        "causes": _grouped(found, "cause"),
        "recommendations": _grouped(found, "recommendation"),
    }


def bottom_line(results: Document, judged: Assessment, found: dict, loc: Locale) -> dict:
    """Return the one sentence to act on: the analysis's recommendation, or what the verdicts imply."""
    ref_name = results["reference"]
    if not is_ok(results["backends"][ref_name]):
        return {"severity": "fail", "text": loc.t("conclusion.reference_failed", reference=ref_name)}
    if judged.recommendation is None:  # no other backend ran: a failed step (the export) says why
        steps = _steps(found)
        text = steps[0]["title"] if steps else loc.t("conclusion.nothing_compared", reference=ref_name)
        return {"severity": "fail", "text": text}
    advice = [f for f in found["all"] if f["topic"] == "recommendations" and f["title"]]
    if advice:
        return {"severity": advice[0]["severity"], "text": advice[0]["title"]}
    best = recommended(judged)
    if best:
        text = loc.t("conclusion.recommend", backend=best[0], reference=ref_name, speedup=loc.ratio(best[1]))
        return {"severity": "pass", "text": text}
    return {"severity": "info", "text": loc.t("conclusion.keep_reference", reference=ref_name)}


def _steps(found: dict) -> list[dict]:
    """Return the findings of failed steps (the export ...), each said once at the top, then the one
    that withholds the answers' verdicts (nothing.py): why nothing can be recommended."""
    steps = [f for f in found["all"] if f["id"] == "backend.step"]
    return steps + [f for f in found["all"] if f["id"] == "method.nothing"]


def conclusion(results: Document, judged: Assessment, found: dict, loc: Locale) -> list[str]:
    """Return the conclusion's sentences, generated from the numbers."""
    ref_name = results["reference"]
    ref = results["backends"][ref_name]
    env = results["environment"]
    setup = {"cpu": env["cpu"] or DASH, "threads": loc.num(env["threads"])}
    sentences = [loc.t("conclusion.setup", **setup, count=loc.num(len(judged.backends)), reference=ref_name)]
    reference = measured(ref)
    if reference is None:
        return [*sentences, loc.t("conclusion.reference_failed", reference=ref_name)]
    groups: dict[str, list[str]] = {}
    for verdicts in judged.backends.values():
        groups.setdefault(verdicts.badges[0].code, []).append(verdicts.name)  # its state, or its answers
    for code in (
        "answers.same",
        "answers.close",
        "answers.different",
        "answers.outputs_differ",
        "answers.unknown",
        "answers.withheld",
        "failed",
        "unavailable",
    ):
        if code in groups:
            sentences.append(
                loc.t(f"conclusion.{code}", backends=", ".join(groups[code]), reference=ref_name)
            )
    bottom = bottom_line(results, judged, found, loc)
    sentences += [f["title"] for f in _steps(found) if f["title"] != bottom["text"]]
    timed = [(n, b) for n, b in ok_backends(results) if n in judged.speedups]
    if timed:
        fastest = max(timed, key=lambda item: judged.speedups[item[0]].value)
        slowest = min(timed, key=lambda item: judged.speedups[item[0]].value)
        sentences.append(
            loc.t(
                "conclusion.fastest",
                backend=fastest[0],
                speedup=loc.ratio(judged.speedups[fastest[0]].value),
                latency=loc.ms(fastest[1]["latency_ms"]["median"]),
                reference=ref_name,
                reference_latency=loc.ms(reference["latency_ms"]["median"]),
            )
        )
        slow = judged.speedups[slowest[0]].value
        if slowest[0] != fastest[0] and slow < 1:
            sentences.append(loc.t("conclusion.slowest", backend=slowest[0], speedup=loc.ratio(slow)))
    sized = [(n, size) for n, b in timed if (size := b["file_size_mb"])]
    ref_size = ref["file_size_mb"]
    if sized and ref_size:
        name, size = min(sized, key=lambda item: item[1])
        if size < ref_size:
            sentences.append(
                loc.t(
                    "conclusion.smallest",
                    backend=name,
                    size=loc.mb(size),
                    reference=ref_name,
                    reference_size=loc.mb(ref_size),
                )
            )
    first = [r for r in judged.scores if r["rank"] == 1]
    if first:
        # The score is another ranking (it weighs size and memory too): when it leads with another
        # backend than the recommendation, the page says so instead of naming two "best" backends.
        best = recommended(judged)
        key = "conclusion.score" if not best or best[0] == first[0]["backend"] else "conclusion.score_differs"
        score = loc.fixed(first[0]["score"], 0)
        sentences.append(loc.t(key, backend=first[0]["backend"], score=score, recommended=best and best[0]))
    sentences.append(bottom["text"])
    counts = found["counts"]
    sentences.append(loc.t("conclusion.findings", fail=loc.num(counts["fail"]), warn=loc.num(counts["warn"])))
    return sentences
