"""Rules on the method: measuring mistakes that bias the comparison, each saying how the numbers are
affected, and which backends' timings they put in doubt (``biased``)."""

from __future__ import annotations

import statistics

from reportgen import stats
from reportgen.analysis.finding import Finding, candidates, finding, ok_backends
from reportgen.analysis.nothing import nothing
from reportgen.analysis.verdicts import Thresholds
from reportgen.analysis.vocabulary import vocabulary
from reportgen.results.schema import Document, Measured


def letterbox(document: Document) -> list[Finding]:
    """Flag backends fed through another letterbox than the reference: two pipelines, not one."""
    out = []
    for name, b, ref in candidates(document):
        mine, theirs = b["settings"].get("letterbox", "square"), ref["settings"].get("letterbox", "square")
        if mine != theirs:
            out.append(
                finding(
                    "method.letterbox",
                    "warn",
                    name,
                    name=name,
                    ref=document["reference"],
                    mine=mine,
                    theirs=theirs,
                )
            )
    return out


def biased_backends(document: Document, th: Thresholds) -> set[str | None]:
    """Return the backends whose timing a method finding puts in doubt (None: the whole run's)."""
    return {f["backend"] for f in method(document, th) if f["severity"] == "warn"}


def method(document: Document, th: Thresholds) -> list[Finding]:
    """Flag measuring mistakes that bias the comparison, each saying how the numbers are affected."""
    ok = ok_backends(document)
    out = []
    if len({b["threads"] for _, b in ok}) > 1:
        detail = ", ".join(f"{n} {b['threads']}" for n, b in ok)
        out.append(finding("method.threads", "warn", None, detail=detail))
    reference = dict(ok).get(document["reference"])
    for name, b in ok:
        out += _method_backend(name, b, th, ok, None if name == document["reference"] else reference)
    out += letterbox(document)
    share = document["environment"]["other_cpu_share"]
    if share is not None and share > th.max_other_cpu_share:
        out.append(
            finding(
                "method.contention",
                "warn",
                None,
                share=share * 100,
                max=th.max_other_cpu_share * 100,
            )
        )
    steal = document["environment"]["steal_share"]
    if steal is not None and steal > th.max_other_cpu_share:
        out.append(finding("method.steal", "warn", None, share=steal * 100, max=th.max_other_cpu_share * 100))
    rounds = min((len(b["rounds"]) for _, b in ok), default=None)
    if rounds == 1:  # one process is one sample of the machine: its interval is too narrow
        out.append(finding("method.rounds", "warn", None))
    if ok and not any(f["severity"] == "warn" for f in out):
        out.append(
            finding(
                "method.ok",
                "pass",
                None,
                threads=min(b["threads"] for _, b in ok),
                n=min(b["latency_ms"]["n"] for _, b in ok),
                rounds=rounds,
            )
        )
    return out


def _method_backend(
    name: str, b: Measured, th: Thresholds, ok: list[tuple[str, Measured]], reference: Measured | None
) -> list[Finding]:
    settings, latency = b["settings"], b["latency_ms"]
    params = {
        "name": name,
        "n": latency["n"],
        "cv": latency["robust_cv"] or 0.0,
        "min": th.min_samples,
        "max_cv": th.max_cv,
        "load_ms": b["load_ms"],
    }
    out = []
    if settings.get("warmup_iterations") == 0:
        out.append(finding("method.warmup", "warn", name, **params))
    if settings.get("time_load_in_latency"):
        out.append(finding("method.load_in_latency", "warn", name, **params))
    level = settings.get("graph_optimization")
    if level in ("disabled", "basic", "extended"):
        # Measured beside a fully optimized session it is a deliberate comparison, not a mistake.
        compared = any(o["settings"].get("graph_optimization") == "all" for _, o in ok)
        out.append(
            finding(
                "method.optimization/compared" if compared else "method.optimization/only",
                "info" if compared else "warn",
                name,
                **params,
                level=level,
            )
        )
    if latency["n"] < th.min_samples:
        out.append(finding("method.samples", "warn", name, **params))
    if latency["robust_cv"] is not None and latency["robust_cv"] > th.max_cv:
        out.append(finding("method.noise", "warn", name, **params))
    out += _repeatability(name, b, reference, th)
    share = b.get("other_cpu_share")
    if share is not None and share > th.max_other_cpu_share:
        out.append(
            finding(
                "method.contention/backend",
                "warn",
                name,
                name=name,
                share=share * 100,
                max=th.max_other_cpu_share * 100,
            )
        )
    return out


# The rule of too_few: a share is read as a verdict only when its 95% Wilson interval is narrower
# than this (in points). "50% matched" on 2 detections spans 9-91%: no verdict at all.
MAX_INTERVAL_POINTS = 10.0
Z95 = 1.959964  # the standard normal's 97.5th percentile: two-sided 95%


def wilson_interval(share: float, n: int) -> tuple[float, float]:
    """Return the 95% Wilson score interval of a share observed on ``n`` trials ((0, 1) for none).

    Wilson's, not the normal approximation's: it stays inside [0, 1] and is not zero-wide at 0% or
    100%, which is where agreement figures sit (100% matched on 3 detections is 44-100%).
    """
    if n <= 0:
        return 0.0, 1.0
    z2 = Z95 * Z95
    center = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * (share * (1 - share) / n + z2 / (4 * n * n)) ** 0.5 / (1 + z2 / n)
    return max(0.0, center - half), min(1.0, center + half)


def enough(share: float, max_points: float = MAX_INTERVAL_POINTS) -> int:
    """Return the fewest trials whose Wilson interval at ``share`` is narrower than ``max_points``."""
    low, high = 1, 1
    while _width(share, high) >= max_points:
        low, high = high, high * 2
    while low < high:  # the width shrinks as n grows: bisect to the first n that is narrow enough
        middle = (low + high) // 2
        low, high = (middle + 1, high) if _width(share, middle) >= max_points else (low, middle)
    return high


def _width(share: float, n: int) -> float:
    low, high = wilson_interval(share, n)
    return (high - low) * 100


def _repeatability(name: str, b: Measured, reference: Measured | None, th: Thresholds) -> list[Finding]:
    """Say how far a backend's rounds (fresh processes) disagree. Timed in paired slices, by its paired
    speed-up per round: its round medians also differ by the machine states each round saw, which the
    pairs cancel (ort-extended's round medians 38% apart, its round speed-ups 2.27, 2.24, 2.29x)."""
    if b["slices"]:
        speedups = stats.round_speedups(dict(reference), dict(b)) if reference is not None else []
        if len(speedups) < 2:  # the reference of a paired run has no speed-up to compare
            return []
        spread = (max(speedups) - min(speedups)) / statistics.median(speedups)
        key, shown = "method.repeatability/speedups", ", ".join(f"{s:.2f}×" for s in speedups)
    else:
        spread = b["latency_ms"]["round_spread"] or 0.0
        key, shown = "method.repeatability", ", ".join(f"{r['median_ms']:.2f}" for r in b["rounds"])
    if spread <= th.max_round_spread:
        return []
    params = {"spread": spread * 100, "max": th.max_round_spread * 100, "rounds": len(b["rounds"])}
    return [finding(key, "info", name, name=name, **params, medians=shown)]


def too_few(document: Document, th: Thresholds) -> list[Finding]:
    """Flag agreement and accuracy figures measured on too few detections or images to mean anything.

    Each figure is a share of some count (matched detections of those compared, correct top-1 of the
    images, mAP of the ground-truth objects, read as a share of them); the widest interval among the
    backends is judged by the rule above, and the finding says the count, the interval and the count
    that would be enough at the share measured.
    """
    out = []
    # An agreement on nothing is withheld, not too few (nothing.py says why).
    agreements = [] if nothing(document) else _agreements(document)
    for figures in (agreements, _accuracies(document)):
        widest = max(figures, key=lambda f: _width(f[2], f[3]), default=None)
        if widest is not None and _width(widest[2], widest[3]) >= MAX_INTERVAL_POINTS:
            out.append(_too_few(document, *widest))
    return out


def _too_few(document: Document, key: str, name: str, share: float, count: int) -> Finding:
    low, high = wilson_interval(share, count)
    # Counted in inputs (images, sequences, samples: analysis/vocabulary.py), not in detections.
    nouns = {"item": vocabulary(document).item} if key.endswith("_images") else {}
    return finding(
        key,
        "warn",
        None,
        **nouns,
        name=name,
        ref=document["reference"],
        count=count,
        images=document["dataset"]["images"],
        rate=share * 100,
        low=low * 100,
        high=high * 100,
        width=(high - low) * 100,
        max=MAX_INTERVAL_POINTS,
        needed=enough(share),
    )


def _agreements(document: Document) -> list[tuple[str, str, float, int]]:
    """Return (text key, backend, share, count) of each candidate's agreement with the reference."""
    out = []
    for name, b, _ in candidates(document):
        p = b["parity"]
        if p and "detection_match_rate" in p:
            compared = p["matched"] + max(p["unmatched_reference"], p["unmatched_candidate"])
            out.append(("method.too_few/agreement", name, p["detection_match_rate"], compared))
        elif p and "top1_agreement" in p:
            out.append(
                ("method.too_few/agreement_images", name, p["top1_agreement"], document["dataset"]["images"])
            )
    return out


def _accuracies(document: Document) -> list[tuple[str, str, float, int]]:
    """Return (text key, backend, share, count) of each backend's accuracy against ground truth."""
    out = []
    for name, b in ok_backends(document):
        m = b["metrics"]
        share, objects = m.get("map50"), m.get("ground_truth_objects")
        if share is not None and objects is not None:
            out.append(("method.too_few/accuracy", name, share, objects))
        elif (top1 := m.get("top1_accuracy")) is not None:
            out.append(
                (
                    "method.too_few/accuracy_images",
                    name,
                    top1,
                    m.get("images") or document["dataset"]["images"],
                )
            )
    return out


def states(document: Document, th: Thresholds) -> list[Finding]:
    """Say where the machine's speed states (states.speed_states) changed a speed-up by more than the
    speed tolerance: no pairing cancels a state that slows two runtimes unequally (issue 17; on the demo
    onnxruntime was 3.05x in the fast state and 3.88x in the slow one). Said, not warned: the ranking
    already reads the machine at its best (stats.speedup: each side's fastest calls)."""
    out = []
    for name, b, ref in candidates(document):
        fast, slow = stats.speedups_by_state(dict(ref), dict(b))  # stats reads plain dicts
        if fast is None or slow is None or abs(slow.value / fast.value - 1) <= th.speed_tol:
            continue
        params = {"name": name, "ref": document["reference"], "fast": fast.value, "slow": slow.value}
        out.append(
            finding("method.states", "info", name, **params, fast_pairs=fast.pairs, slow_pairs=slow.pairs)
        )
    return out
