"""The one judge: a read results document and today's rules make one typed Assessment.

Results files hold what was measured; nothing judged is read back from them (findings an older
reportgen stored are ignored). ``render``, ``render --all``, ``--merge``, ``compare`` and ``build``
call ``assess`` on documents read through results/document.read_results, so every version of an
archive is judged by the same code, and the page's badges, its findings, its score section, the index
and the regression gate read one judgement instead of re-deciding it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from reportgen.analysis import rules, score
from reportgen.analysis.finding import Finding, is_reduced, speedup_of
from reportgen.analysis.nothing import nothing
from reportgen.analysis.recommend import Recommendation, choose
from reportgen.analysis.steps import PREFIXES, blocked
from reportgen.analysis.verdicts import SEVERITY_ORDER, Thresholds, agreement, is_ok, ordered
from reportgen.results.schema import Backend, Document
from reportgen.stats import Speedup

# The codes a badge can have (``memory.*`` are not shown): each has a sentence (verdict.<code>) and a
# badge (badge.<code>) in every catalog, and those of answers and speed a count on the index.
BADGE_CODES = (
    *("failed", "unavailable", "not_comparable"),
    *(f"not_measured.{step}" for step in PREFIXES),  # a failed step (the export) left it unmeasured
    *("answers.same", "answers.close", "answers.different", "answers.outputs_differ", "answers.unknown"),
    "answers.withheld",  # the reference's answers are empty or constant (nothing.py)
    *("speed.faster", "speed.same", "speed.slower", "speed.unknown"),
    *("size.smaller", "size.same", "size.larger", "size.larger_dtype", "size.unknown"),
)


@dataclass(frozen=True)
class Verdict:
    """One judged aspect of a backend: its severity, its code (``verdict.<code>`` and ``badge.<code>``
    in the catalogs) and the raw values its texts show (formatted by the page's locale)."""

    severity: str
    code: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class BackendVerdicts:
    """A backend against the reference: ``state`` alone when it could not be compared (failed,
    unavailable, the reference failed), else its answers, speed, size and memory."""

    name: str
    state: Verdict | None = None
    answers: Verdict | None = None
    speed: Verdict | None = None
    size: Verdict | None = None
    memory: Verdict | None = None

    @property
    def badges(self) -> tuple[Verdict, ...]:
        """Return the verdicts a page shows as badges, in order."""
        if self.state is not None:
            return (self.state,)
        return tuple(v for v in (self.answers, self.speed, self.size) if v is not None)


@dataclass(frozen=True)
class Assessment:
    """Everything judged of one machine's document."""

    thresholds: Thresholds
    backends: dict[str, BackendVerdicts]  # every backend but the reference, in page order
    findings: tuple[Finding, ...]  # most severe first
    recommendation: Recommendation | None  # None: the reference failed
    scores: tuple[dict, ...]  # score.scores' rows
    speedups: dict[str, Speedup]  # every timed candidate's speed-up over the reference (stats.speedup)


def assess(document: Document, th: Thresholds | None = None) -> Assessment:
    """Return the judgement of a read document by today's rules (``th``: else its own thresholds)."""
    th = th or Thresholds.of(document)
    found, unmeasured = rules.findings(document, th), blocked(document)
    return Assessment(
        thresholds=th,
        backends={
            name: _backend(document, name, th, found, unmeasured.get(name))
            for name, _ in ordered(document)[1:]
        },
        findings=tuple(found),
        recommendation=choose(document, th),
        scores=tuple(score.scores(document, th.min_match_rate)),
        speedups={n: s for n, _ in ordered(document)[1:] if (s := speedup_of(document, n)) is not None},
    )


def _backend(
    document: Document, name: str, th: Thresholds, found: list[Finding], step: str | None
) -> BackendVerdicts:
    ref_name = document["reference"]
    b, ref = document["backends"][name], document["backends"][ref_name]
    if step is not None:  # the step's finding says why, once; the backend only that it was not measured
        return BackendVerdicts(name, Verdict("fail", f"not_measured.{step}", {"backend": name}))
    if b["status"] == "unavailable":  # no GPU here: said, not failed
        return BackendVerdicts(name, Verdict("info", "unavailable", {"backend": name, "error": b["error"]}))
    if not is_ok(b):
        return BackendVerdicts(name, Verdict("fail", "failed", {"backend": name, "error": b["error"]}))
    if not is_ok(ref):
        return BackendVerdicts(
            name, Verdict("fail", "not_comparable", {"backend": name, "reference": ref_name})
        )
    withheld = Verdict("warn", "answers.withheld", {"reference": ref_name}) if nothing(document) else None
    return BackendVerdicts(
        name,
        answers=withheld or _answers(b, ref_name, th, [f for f in found if f["backend"] == name]),
        speed=_speed(document, name, found),
        size=size(b, ref, th),
        memory=memory(b, ref, th),
    )


def _answers(b: Backend, reference: str, th: Thresholds, found: list[Finding]) -> Verdict:
    """Return the answers verdict, at least as severe as the backend's parity findings: a badge never
    reads better than a finding on the same answers (FP32 outputs beyond the tolerance fail there)."""
    verdict = answers(b, reference, th)
    severities = [f["severity"] for f in found if f["id"].startswith("parity.")] + [verdict.severity]
    return replace(verdict, severity=min(severities, key=SEVERITY_ORDER.__getitem__))


def answers(b: Backend, reference: str, th: Thresholds) -> Verdict:
    """Return whether a backend gives the reference's answers; a reduced precision (INT8, FP16)
    differing is a warning, as its parity findings say."""
    parity = b["parity"]
    if parity is None:
        return Verdict("info", "answers.unknown")
    differ = "warn" if is_reduced(b) else "fail"
    allclose, measured = parity["allclose"], agreement(parity)
    if measured is None:  # a raw model: only its outputs can be compared
        if allclose:
            return Verdict("pass", "answers.same", {"reference": reference})
        return Verdict(differ, "answers.outputs_differ", {"max_abs": parity["max_abs_diff"]})
    measure, rate = measured
    values = {"measure": measure, "rate": rate}
    if allclose and rate >= th.min_match_rate:
        return Verdict("pass", "answers.same", {"reference": reference})
    if rate >= th.min_match_rate or allclose:
        # Outputs off but answers kept (INT8), or outputs kept and only threshold flips lost.
        return Verdict("warn", "answers.close", values)
    return Verdict(differ, "answers.different", values)


def _speed(document: Document, name: str, found: list[Finding]) -> Verdict:
    """Return the speed verdict the speed finding made (faster, same or slower, with its severity: a
    timing a method finding puts in doubt is a warning whatever its direction)."""
    measured = speedup_of(document, name)
    latency = [f for f in found if f["backend"] == name and f["id"] == "speed.latency"]
    if measured is None or not latency:
        return Verdict("info", "speed.unknown")
    direction = latency[0]["key"].split("/")[1].split("_")[0]  # faster, same, slower
    ratio = measured.value if direction == "faster" else 1 / measured.value
    return Verdict(latency[0]["severity"], f"speed.{direction}", {"ratio": ratio})


def size(b: Backend, ref: Backend, th: Thresholds) -> Verdict:
    """Return whether the backend's file is smaller, larger or about the same as the reference's."""
    mb, ref_mb = b["file_size_mb"], ref["file_size_mb"]
    if not mb or not ref_mb:
        return Verdict("info", "size.unknown")
    ratio = mb / ref_mb
    if abs(ratio - 1) <= th.size_tol:
        return Verdict("info", "size.same")
    if ratio < 1:
        return Verdict("pass", "size.smaller", {"ratio": 1 / ratio})
    if b["weight_dtype"] != ref["weight_dtype"]:  # wider weights by design: said, not warned
        dtypes = {"dtype": b["weight_dtype"], "reference_dtype": ref["weight_dtype"]}
        return Verdict("info", "size.larger_dtype", {"ratio": ratio, **dtypes})
    return Verdict("warn", "size.larger", {"ratio": ratio})


def memory(b: Backend, ref: Backend, th: Thresholds) -> Verdict:
    """Return whether the backend's peak memory is lower, higher or about the reference's (a fact for
    the assessment; the memory findings say why, no badge shows it)."""
    if b["memory_mb"] is None or ref["memory_mb"] is None:
        return Verdict("info", "memory.unknown")
    peak, ref_peak = b["memory_mb"]["peak"], ref["memory_mb"]["peak"]
    ratio = peak / ref_peak
    if abs(ratio - 1) <= th.tolerance("memory"):
        return Verdict("info", "memory.same", {"ratio": ratio})
    return Verdict("info", "memory.lower" if ratio < 1 else "memory.higher", {"ratio": ratio})
