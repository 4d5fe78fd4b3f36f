"""The words of a report: one verdict per backend, the findings in the page's language (grouped for the
key findings, the sections, the causes and the recommendations), the bottom line and the conclusion.
"""

from __future__ import annotations

from reportgen.analysis.verdicts import (
    FASTER,
    SAME,
    SEVERITY_ORDER,
    Thresholds,
    agreement,
    is_ok,
    number,
    ordered,
    speed_verdict,
)
from reportgen.report.locale import DASH, Locale, placeholders
from reportgen.results.schema import Backend, Document, Finding

# Which section of the page shows the findings of a rule family (the part of the id before the dot).
TOPICS = {
    "parity": "quality",
    "accuracy": "quality",
    "speed": "speed",
    "efficiency": "speed",
    "memory": "memory",
    "size": "size",
    "method": "method",
    "recommend": "recommendations",
}


def _part(severity: str, code: str, loc: Locale, sentence: dict | None = None, **badge: object) -> dict:
    """Return one verdict part: its severity, its sentence fragment, its badge text and its code."""
    return {
        "severity": severity,
        "code": code,
        "sentence": loc.t(f"verdict.{code}", **(badge if sentence is None else sentence)),
        "short": loc.t(f"badge.{code}", **badge),
    }


def _answers(b: Backend, reference: str, th: Thresholds, loc: Locale) -> dict:
    parity = b["parity"]
    if parity is None:
        return _part("info", "answers.unknown", loc)
    allclose, measured = parity["allclose"], agreement(parity)
    if measured is None:  # a raw model: only its outputs can be compared
        if allclose:
            return _part("pass", "answers.same", loc, {"reference": reference})
        quantized = b["settings"].get("quantization", "none") != "none"
        sentence = {"max_abs": loc.sci(parity["max_abs_diff"])}
        return _part("warn" if quantized else "fail", "answers.outputs_differ", loc, sentence)
    measure, rate = measured
    text = {"agreement": loc.t(f"agreement.{measure}", rate=loc.rate(rate))}
    if allclose and rate >= th.min_match_rate:
        return _part("pass", "answers.same", loc, {"reference": reference})
    if rate >= th.min_match_rate or allclose:
        # Outputs off but answers kept (INT8), or outputs kept and only threshold flips lost.
        return _part("warn", "answers.close", loc, text)
    return _part("fail", "answers.different", loc, text)


def _speed(b: Backend, th: Thresholds, loc: Locale) -> dict:
    speedup, interval = b["speedup"], b["speedup_interval"]
    if speedup is None:
        return _part("info", "speed.unknown", loc)
    verdict = speed_verdict(interval or (speedup, speedup), th.speed_tol)
    if verdict == FASTER:
        return _part("pass", "speed.faster", loc, ratio=loc.ratio(speedup))
    if verdict == SAME:
        return _part("info", "speed.same", loc)
    return _part("warn", "speed.slower", loc, ratio=loc.ratio(1 / speedup))


def _size(b: Backend, ref: Backend, th: Thresholds, loc: Locale) -> dict:
    size, ref_size = b["file_size_mb"], ref["file_size_mb"]
    if not size or not ref_size:
        return _part("info", "size.unknown", loc)
    ratio = size / ref_size
    if abs(ratio - 1) <= th.size_tol:
        return _part("info", "size.same", loc)
    if ratio < 1:
        return _part("pass", "size.smaller", loc, ratio=loc.ratio(1 / ratio))
    if b["weight_dtype"] != ref["weight_dtype"]:
        dtypes = {"dtype": loc.text(b["weight_dtype"]), "reference_dtype": loc.text(ref["weight_dtype"])}
        sentence = {"ratio": loc.ratio(ratio), **dtypes}
        return _part("info", "size.larger_dtype", loc, sentence, ratio=loc.ratio(ratio))
    return _part("warn", "size.larger", loc, ratio=loc.ratio(ratio))


def verdict(results: Document, name: str, th: Thresholds, loc: Locale) -> dict:
    """Return one sentence and three badges: same answers? faster? smaller? than the reference."""
    ref_name = results["reference"]
    ref, b = results["backends"][ref_name], results["backends"][name]
    if b["status"] == "unavailable":  # no GPU here: said, not failed
        part = _part("info", "unavailable", loc, {"backend": name, "error": b["error"] or DASH})
        return {"backend": name, "sentence": part["sentence"], "parts": [part]}
    if not is_ok(b):
        part = _part("fail", "failed", loc, {"backend": name, "error": b["error"] or DASH})
        return {"backend": name, "sentence": part["sentence"], "parts": [part]}
    if not is_ok(ref):
        part = _part("fail", "not_comparable", loc, {"backend": name, "reference": ref_name})
        return {"backend": name, "sentence": part["sentence"], "parts": [part]}
    answers, speed, size = _answers(b, ref_name, th, loc), _speed(b, th, loc), _size(b, ref, th, loc)
    sentence = loc.t(
        "verdict.sentence",
        backend=name,
        answers=answers["sentence"],
        speed=speed["sentence"],
        size=size["sentence"],
    )
    return {"backend": name, "sentence": sentence, "parts": [answers, speed, size]}


def verdicts(results: Document, th: Thresholds, loc: Locale) -> list[dict]:
    """Return the verdict of every backend but the reference, in page order."""
    return [verdict(results, name, th, loc) for name, _ in ordered(results)[1:]]


def recommended(results: Document, found_verdicts: list[dict]) -> tuple[str, float | None] | None:
    """Return the backend to use and its speed-up: the analysis's recommendation when it made one,
    else the fastest backend that gives the same answers and is measurably faster (older documents)."""
    for f in results["findings"]:
        params = f.get("params", {})  # absent in upgraded schema-1 documents; its values any scalar
        if f["id"] in ("recommend.fastest", "recommend.tied") and params.get("name") in results["backends"]:
            return params["name"], number(params.get("speedup"))
        if f["id"] == "recommend.keep":
            return None
    same_and_faster = [
        (results["backends"][v["backend"]]["speedup"], v["backend"])
        for v in found_verdicts
        if len(v["parts"]) == 3 and v["parts"][0]["severity"] == v["parts"][1]["severity"] == "pass"
    ]
    if not same_and_faster:
        return None
    speedup, name = max(same_and_faster)
    return name, speedup


def localize(finding: Finding, loc: Locale) -> dict:
    """Return a finding with its texts in the page's language, from `rule.<key>.*` and its params.

    Documents written before findings carried a key (or with a key this catalog lacks) keep their
    stored English texts."""
    key, params = finding.get("key"), finding.get("params", {})
    out = {
        "id": finding["id"],
        "severity": finding["severity"],
        "backend": finding["backend"],
        "topic": TOPICS.get(finding["id"].split(".")[0], "other"),
    }
    for part in ("title", "evidence", "cause", "recommendation"):
        text, message = finding[part], f"rule.{key}.{part}"
        # Params of another reportgen version may not fit today's message: the stored text is still true.
        if key and loc.has(message) and placeholders(loc.catalog[message]) <= set(params):
            try:
                text = loc.catalog[message].format(**params)
            except (TypeError, ValueError):  # a value that does not fit its format, e.g. None for {x:.2f}
                pass
        out[part] = text
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


def findings_view(results: Document, loc: Locale) -> dict:
    """Return the findings: the key ones, per section, and grouped by cause and by recommendation."""
    found = sorted(
        (localize(f, loc) for f in results["findings"]), key=lambda f: SEVERITY_ORDER[f["severity"]]
    )
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


def bottom_line(results: Document, found_verdicts: list[dict], found: dict, loc: Locale) -> dict:
    """Return the one sentence to act on: the analysis's recommendation, or what the verdicts imply."""
    ref_name = results["reference"]
    if not is_ok(results["backends"][ref_name]):
        return {"severity": "fail", "text": loc.t("conclusion.reference_failed", reference=ref_name)}
    advice = [f for f in found["all"] if f["topic"] == "recommendations" and f["title"]]
    if advice:
        return {"severity": advice[0]["severity"], "text": advice[0]["title"]}
    best = recommended(results, found_verdicts)
    if best:
        text = loc.t("conclusion.recommend", backend=best[0], reference=ref_name, speedup=loc.ratio(best[1]))
        return {"severity": "pass", "text": text}
    return {"severity": "info", "text": loc.t("conclusion.keep_reference", reference=ref_name)}


def conclusion(
    results: Document, found_verdicts: list[dict], scores: list[dict], found: dict, loc: Locale
) -> list[str]:
    """Return the conclusion's sentences, generated from the numbers."""
    ref_name = results["reference"]
    ref = results["backends"][ref_name]
    env = results["environment"]
    setup = {"cpu": env["cpu"] or DASH, "threads": loc.num(env["threads"])}
    sentences = [loc.t("conclusion.setup", **setup, count=loc.num(len(found_verdicts)), reference=ref_name)]
    if not is_ok(ref):
        return [*sentences, loc.t("conclusion.reference_failed", reference=ref_name)]
    groups: dict[str, list[str]] = {}
    for v in found_verdicts:
        groups.setdefault(v["parts"][0]["code"], []).append(v["backend"])
    for code in (
        "answers.same",
        "answers.close",
        "answers.different",
        "answers.outputs_differ",
        "answers.unknown",
        "failed",
        "unavailable",
    ):
        if code in groups:
            sentences.append(
                loc.t(f"conclusion.{code}", backends=", ".join(groups[code]), reference=ref_name)
            )
    timed = [(n, b) for n, b in ordered(results)[1:] if is_ok(b) and b["speedup"]]
    if timed:
        fastest = max(timed, key=lambda item: item[1]["speedup"])
        slowest = min(timed, key=lambda item: item[1]["speedup"])
        sentences.append(
            loc.t(
                "conclusion.fastest",
                backend=fastest[0],
                speedup=loc.ratio(fastest[1]["speedup"]),
                latency=loc.ms(fastest[1]["latency_ms"]["median"]),
                reference=ref_name,
                reference_latency=loc.ms(ref["latency_ms"]["median"]),
            )
        )
        if slowest[0] != fastest[0] and slowest[1]["speedup"] < 1:
            sentences.append(
                loc.t("conclusion.slowest", backend=slowest[0], speedup=loc.ratio(slowest[1]["speedup"]))
            )
    sized = [(n, b) for n, b in timed if b["file_size_mb"]]
    if sized and ref["file_size_mb"]:
        name, b = min(sized, key=lambda item: item[1]["file_size_mb"])
        if b["file_size_mb"] < ref["file_size_mb"]:
            sentences.append(
                loc.t(
                    "conclusion.smallest",
                    backend=name,
                    size=loc.mb(b["file_size_mb"]),
                    reference=ref_name,
                    reference_size=loc.mb(ref["file_size_mb"]),
                )
            )
    first = [r for r in scores if r["rank"] == 1]
    if first:
        # The score is another ranking (it weighs size and memory too): when it leads with another
        # backend than the recommendation, the page says so instead of naming two "best" backends.
        best = recommended(results, found_verdicts)
        key = "conclusion.score" if not best or best[0] == first[0]["backend"] else "conclusion.score_differs"
        score = loc.fixed(first[0]["score"], 0)
        sentences.append(loc.t(key, backend=first[0]["backend"], score=score, recommended=best and best[0]))
    sentences.append(bottom_line(results, found_verdicts, found, loc)["text"])
    counts = found["counts"]
    sentences.append(loc.t("conclusion.findings", fail=loc.num(counts["fail"]), warn=loc.num(counts["warn"])))
    return sentences
