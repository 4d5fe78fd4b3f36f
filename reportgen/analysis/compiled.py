"""What a compiling backend (torch_compile) pays before its first answer, cold and with a warm cache.

torch.compile compiles at its first call, so the cost shows as that round's first inference. Round 1
runs in a fresh work folder (a cold inductor cache); later rounds reuse its kernels, as a deployment
with a persistent cache would. The headline first-inference figure is the median over the rounds (the
warm one), so the cold compile is said here, with the number of calls its speed-up needs to pay it back.
"""

from __future__ import annotations

import statistics

from reportgen.analysis.finding import Finding, candidates, finding
from reportgen.analysis.verdicts import Thresholds
from reportgen.results.schema import Document, Measured

COMPILING = ("torch_compile",)


def compile_cost(document: Document, th: Thresholds) -> list[Finding]:
    """Return, for each compiling backend, its cold and warm first call against the reference's."""
    ref_name = document["reference"]
    out = []
    for name, b, ref in candidates(document):
        firsts = _first_calls(b)
        if b["kind"] not in COMPILING or not firsts:
            continue
        warm = firsts[1:]
        saved_ms = ref["latency_ms"]["median"] - b["latency_ms"]["median"]
        params = {
            "name": name,
            "ref": ref_name,
            "cold_s": firsts[0] / 1000,
            "warm_s": statistics.median(warm) / 1000 if warm else firsts[0] / 1000,
            "warm_rounds": len(warm),
            "ref_first_s": ref["first_inference_ms"] / 1000,
            "saved_ms": saved_ms,
        }
        if saved_ms > 0:
            out.append(finding("speed.compile/payback", "info", name, **params, calls=firsts[0] / saved_ms))
        else:
            out.append(finding("speed.compile/no_payback", "info", name, **params))
    return out


def _first_calls(backend: Measured) -> list[float]:
    """Return each round's first call (ms) in the order the rounds ran; [] for files without them."""
    firsts = [r.get("first_inference_ms") for r in backend["rounds"]]
    return [f for f in firsts if f is not None] if all(f is not None for f in firsts) else []
