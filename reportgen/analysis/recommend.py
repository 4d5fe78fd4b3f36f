"""The recommendation: which configuration to use, with the backends tied with it, or keep the reference.

``choose`` decides (one typed Recommendation, read by the page's verdict, the bottom line, the score
section and the index); ``advice`` says it as findings.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.analysis.finding import (
    Finding,
    accuracy_of,
    agreement_share,
    alternatives,
    candidates,
    finding,
    in_points,
    ok_backends,
    size_ratio,
    speedup_of,
)
from reportgen.analysis.method import biased_backends
from reportgen.analysis.nothing import nothing
from reportgen.analysis.verdicts import FASTER, Thresholds, simplicity, speed_verdict
from reportgen.results.schema import Document, Measured
from reportgen.results.timing import BatchSize

FASTEST, TIED, KEEP, REMEASURE = "fastest", "tied", "keep", "remeasure"


@dataclass(frozen=True)
class Recommendation:
    """What to do: use ``backend`` (FASTEST, or TIED with ``tied``), KEEP the reference, or REMEASURE."""

    kind: str
    backend: str | None  # None: keep the reference, or measure again
    speedup: float | None = None
    interval: tuple[float, float] | None = None  # of the speed-up
    tied: tuple[tuple[str, float], ...] = ()  # (name, speed-up) of those whose interval reaches in
    fastest: str | None = None  # the fastest of the tied, when the simplest of them is named

    @property
    def uses(self) -> tuple[str, float | None] | None:
        """Return (backend, speed-up) when a backend other than the reference is recommended."""
        return (self.backend, self.speedup) if self.kind in (FASTEST, TIED) and self.backend else None


def choose(document: Document, th: Thresholds) -> Recommendation | None:
    """Return the fastest configuration that keeps the answers, among those tied with it the simplest;
    None when the reference did not run or no other backend did (nothing can be recommended: the
    failures' findings say why)."""
    ref_name, biased = document["reference"], biased_backends(document, th)
    if document["backends"][ref_name]["status"] != "ok" or not any(candidates(document)):
        return None
    if nothing(document):  # no backend can be said to keep answers that are empty (nothing.py)
        return None
    if biased & {ref_name, None}:  # every speed-up is measured against a disturbed reference
        return Recommendation(REMEASURE, None)
    keeping = [
        (n, measured)
        for n, b, ref in candidates(document)
        if (measured := speedup_of(document, n)) is not None
        and agreement_share(b["parity"]) >= th.min_match_rate
        and (accuracy_of(b["metrics"]) or 0) >= (accuracy_of(ref["metrics"]) or 0) - th.accuracy_points / 100
        and speed_verdict((measured.low, measured.high), th.speed_tol) == FASTER
        and n not in biased
    ]
    if not keeping:
        return Recommendation(KEEP, None)
    fastest, top = max(keeping, key=lambda item: item[1].value)
    # Where a backend's interval reaches into the fastest one's, their order is noise: name the simplest,
    # say who is tied. Overlap, not the point estimate inside the interval: on the demo a backend's
    # median moved between runs by 30% (bench_repeatability), in and out of the fastest's interval.
    floor = min(top.low, top.value)  # the fastest is tied with itself
    tied = [(n, s) for n, s in keeping if max(s.high, s.value) >= floor]
    name, chosen = min(tied, key=lambda item: simplicity(document["backends"][item[0]]))
    interval = (chosen.low, chosen.high)
    if len(tied) == 1:
        return Recommendation(FASTEST, name, chosen.value, interval)
    others = tuple((n, s.value) for n, s in tied if n != name)
    return Recommendation(TIED, name, chosen.value, interval, others, fastest)


def advice(document: Document, th: Thresholds) -> list[Finding]:
    """Return the recommendation as a finding (none when the reference failed)."""
    choice = choose(document, th)
    ref_name = document["reference"]
    if choice is None:
        return []
    if choice.kind == REMEASURE:
        return [finding("recommend.remeasure", "warn", None, ref=ref_name)]
    if choice.kind == KEEP or choice.backend is None or choice.interval is None:
        return _keep(document)
    name, (low, high) = choice.backend, choice.interval
    b, ref = document["backends"][name], document["backends"][ref_name]
    params = {
        "name": name,
        "ref": ref_name,
        "speedup": choice.speedup,
        "low": low,
        "high": high,
        "size": size_ratio(b, ref) or 0.0,
        "rate": agreement_share(b["parity"]) * 100,
        "delta": in_points((accuracy_of(b["metrics"]) or 0) - (accuracy_of(ref["metrics"]) or 0)),
    }
    if choice.kind == TIED:
        others = ", ".join(f"{n} {speedup:.2f}×" for n, speedup in choice.tied)
        return [finding("recommend.tied", "pass", name, **params, tied=others, fastest=choice.fastest)]
    key = "recommend.fastest" if size_ratio(b, ref) else "recommend.fastest/unsized"
    return [finding(key, "pass", name, **params)]


def _keep(document: Document) -> list[Finding]:
    """Keep the reference; the advice names the alternatives as measured or untested, as they were."""
    ref_name = document["reference"]
    measured, untested = alternatives(document)
    if not measured:
        return [finding("recommend.keep", "info", ref_name, ref=ref_name)]
    listed = {"measured": ", ".join(measured), "untested": ", ".join(untested) or "-"}
    return [finding("recommend.keep/measured", "info", ref_name, ref=ref_name, **listed)]


def batch_sizes(document: Document, th: Thresholds) -> list[Finding]:
    """Say which batch size the recommendation is for, and who leads in throughput at the largest."""
    sizes = document["config"]["measurement"].get("batch_sizes") or [1]
    if len(sizes) < 2 or choose(document, th) is None:  # no recommendation to say the batch size of
        return []
    largest = max(sizes)
    rates = [
        (name, entry["throughput_per_s"])
        for name, b in ok_backends(document)
        if (entry := _at_size(b, largest)) is not None
        and entry["status"] == "ok"
        and "throughput_per_s" in entry
    ]
    if not rates:
        return []
    best, throughput = max(rates, key=lambda item: item[1])
    listed = ", ".join(f"{name} {rate:.1f}/s" for name, rate in sorted(rates, key=lambda item: -item[1]))
    params = {"batch": sizes[0], "largest": largest, "best": best, "throughput": throughput, "listed": listed}
    return [finding("recommend.batch", "info", best, **params)]


def _at_size(backend: Measured, size: int) -> BatchSize | None:
    """Return a backend's measurement at one batch size (None where it was not measured)."""
    return backend.get("by_batch_size", {}).get(str(size))
