"""Rules on the method: measuring mistakes that bias the comparison, each saying how the numbers are
affected, and which backends' timings they put in doubt (``biased``)."""

from __future__ import annotations

from reportgen.analysis.finding import candidates, finding, ok_backends
from reportgen.results.schema import Backend, Document, Finding


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


def biased_backends(document: Document) -> set[str | None]:
    """Return the backends whose timing a method finding puts in doubt (None: the whole run's)."""
    return {f["backend"] for f in method(document) if f["severity"] == "warn"}


def method(document: Document) -> list[Finding]:
    """Flag measuring mistakes that bias the comparison, each saying how the numbers are affected."""
    analysis, ok = document["config"]["analysis"], ok_backends(document)
    out = []
    if len({b["threads"] for _, b in ok}) > 1:
        detail = ", ".join(f"{n} {b['threads']}" for n, b in ok)
        out.append(finding("method.threads", "warn", None, detail=detail))
    for name, b in ok:
        out += _method_backend(name, b, analysis, ok)
    out += letterbox(document)
    share = document["environment"]["other_cpu_share"]
    if share is not None and share > analysis["max_other_cpu_share"]:
        out.append(
            finding(
                "method.contention",
                "warn",
                None,
                share=share * 100,
                max=analysis["max_other_cpu_share"] * 100,
            )
        )
    steal = document["environment"]["steal_share"]
    if steal is not None and steal > analysis["max_other_cpu_share"]:
        out.append(
            finding(
                "method.steal", "warn", None, share=steal * 100, max=analysis["max_other_cpu_share"] * 100
            )
        )
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


def _method_backend(name: str, b: Backend, analysis: dict, ok: list[tuple[str, Backend]]) -> list[Finding]:
    settings, latency = b["settings"], b["latency_ms"]
    params = {
        "name": name,
        "n": latency["n"],
        "cv": latency["robust_cv"] or 0.0,
        "min": analysis["min_samples"],
        "max_cv": analysis["max_cv"],
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
    if latency["n"] < analysis["min_samples"]:
        out.append(finding("method.samples", "warn", name, **params))
    if latency["robust_cv"] is not None and latency["robust_cv"] > analysis["max_cv"]:
        out.append(finding("method.noise", "warn", name, **params))
    spread = latency["round_spread"]
    if spread is not None and spread > analysis["max_round_spread"]:
        medians = ", ".join(f"{r['median_ms']:.2f}" for r in b["rounds"])
        out.append(
            finding(
                "method.repeatability",
                "info",
                name,
                name=name,
                spread=spread * 100,
                max=analysis["max_round_spread"] * 100,
                rounds=len(b["rounds"]),
                medians=medians,
            )
        )
    share = b.get("other_cpu_share")
    if share is not None and share > analysis["max_other_cpu_share"]:
        out.append(
            finding(
                "method.contention/backend",
                "warn",
                name,
                name=name,
                share=share * 100,
                max=analysis["max_other_cpu_share"] * 100,
            )
        )
    return out
