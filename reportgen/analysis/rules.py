"""Rules over the results document: findings with severity, evidence, cause and recommendation.

Each rule reads measured values only; thresholds come from the config's ``analysis`` and ``parity``
sections. The rules on the method live in method.py; a finding and what rules read, in finding.py.
"""

from __future__ import annotations

from collections.abc import Callable

from reportgen.analysis import causes
from reportgen.analysis.compiled import compile_cost
from reportgen.analysis.finding import (
    Finding,
    agreement_share,
    candidates,
    explained,
    finding,
    in_points,
    is_fp16,
    is_quantized,
    is_reduced,
    ok_backends,
    size_ratio,
    speedup_of,
)
from reportgen.analysis.method import biased_backends, method, states, too_few
from reportgen.analysis.nothing import nothing, nothing_findings
from reportgen.analysis.recommend import advice, batch_sizes
from reportgen.analysis.steps import blocked, step_findings
from reportgen.analysis.verdicts import FASTER, SAME, SEVERITY_ORDER, Thresholds, speed_verdict
from reportgen.analysis.vocabulary import vocabulary
from reportgen.results.schema import Document, Parity


def findings(document: Document, th: Thresholds | None = None) -> list[Finding]:
    """Return every rule's findings, most severe first (stable within a severity).

    ``th``: the thresholds to judge by, else the document's own (``Thresholds.of``)."""
    th = th or Thresholds.of(document)
    found = [f for rule in RULES for f in rule(document, th)]
    return sorted(found, key=lambda f: SEVERITY_ORDER[f["severity"]])


def failures(document: Document, th: Thresholds) -> list[Finding]:
    """A failed backend is a failure; one this machine cannot run (no GPU) is said, not failed; one a
    failed step left unmeasured (the export) is said once, by that step's finding (steps.py)."""
    out, unmeasured = [], blocked(document)
    for name in document["backend_order"]:
        b = document["backends"][name]
        if name in unmeasured:
            continue
        if b["status"] == "unavailable":
            out.append(finding("backend.unavailable", "info", name, name=name, error=b["error"]))
        elif b["status"] != "ok":
            out.append(finding("backend.failed", "fail", name, name=name, error=b["error"]))
    return out


def output_parity(document: Document, th: Thresholds) -> list[Finding]:
    out = []
    for name, b, _ in candidates(document):
        p = b["parity"]
        if p is None or p.get("letterbox_differs"):  # not compared; or other shapes: see letterbox()
            continue
        if p["max_abs_diff"] is None:  # no output had a counterpart of the same name and shape
            mismatch = "; ".join(
                f"{k}: {o['shape_mismatch']}" for k, o in p["outputs"].items() if o["shape_mismatch"]
            )
            out.append(
                finding(
                    "parity.outputs/incomparable",
                    "fail",
                    name,
                    name=name,
                    ref=document["reference"],
                    detail=mismatch or "no outputs",
                )
            )
            continue
        common = {
            "name": name,
            "ref": document["reference"],
            "atol": p["atol"],
            "rtol": p["rtol"],
            "max_abs": p["max_abs_diff"],
            "cosine": p["cosine_min"] if p["cosine_min"] is not None else 0.0,
        }
        divergence = p["first_divergence"] or {}
        if p["allclose"]:
            out.append(finding("parity.outputs/same", "pass", name, **common))
        elif is_quantized(b):
            out.append(finding("parity.outputs/quantized", "info", name, **common))
        elif is_fp16(b):
            out.append(finding("parity.outputs/fp16", "info", name, **common))
        elif divergence.get("found"):
            out.append(
                finding(
                    "parity.outputs/localized",
                    "fail",
                    name,
                    **common,
                    node=divergence["node"],
                    op=divergence["op_type"],
                    module=divergence["module"] or "?",
                    weights=", ".join(divergence["initializers"]) or "none",
                    node_diff=divergence["max_abs_diff"],
                    output=divergence["diverging_output"],
                )
            )
        else:
            out.append(finding("parity.outputs/differ", "fail", name, **common))
    return out


def detection_agreement(document: Document, th: Thresholds) -> list[Finding]:
    out: list[Finding] = []
    minimum = th.min_match_rate
    if nothing(document):  # agreeing on nothing is no agreement: nothing.py's finding says why
        return out
    for name, b, _ in candidates(document):
        p = b["parity"]
        if p is None:  # not compared
            continue
        if "top1_agreement" in p:
            item = vocabulary(document).item
            out.append(_class_agreement(name, document["reference"], p, minimum, is_reduced(b), item))
        if "detection_match_rate" not in p:
            continue
        unmatched = p["unmatched_reference"] + p["unmatched_candidate"]
        params = {
            "name": name,
            "ref": document["reference"],
            "rate": p["detection_match_rate"] * 100,
            "matched": p["matched"],
            "unmatched": unmatched,
            "flips": p["unmatched_near_threshold"],
            "near": p["near_threshold"],
            "min": minimum * 100,
            "dconf": p["mean_abs_confidence_delta"] or 0.0,
        }
        if p["detection_match_rate"] < minimum and p.get("letterbox_differs"):
            out.append(finding("parity.detections/letterbox", "warn", name, **params))
        elif p["detection_match_rate"] >= minimum:
            out.append(finding("parity.detections/same", "pass", name, **params))
        elif p["unmatched_near_threshold"] >= unmatched:
            out.append(finding("parity.detections/flips", "warn", name, **params))
        else:
            out.append(
                finding("parity.detections/differ", "warn" if is_reduced(b) else "fail", name, **params)
            )
    return out


def _class_agreement(name: str, ref: str, p: Parity, minimum: float, quantized: bool, item: str) -> Finding:
    params = {
        "item": item,  # the inputs' noun, in the page's language when rendered (vocabulary.fill)
        "name": name,
        "ref": ref,
        "top1": p["top1_agreement"] * 100,
        "top5": (p.get("top5_overlap") or 0.0) * 100,  # absent at 5 classes or fewer (no text shows it)
        "dprob": p["max_abs_probability_delta"],
        "min": minimum * 100,
    }
    if p["top1_agreement"] >= minimum:
        return finding("parity.classes/same", "pass", name, **params)
    return finding("parity.classes/differ", "warn" if quantized else "fail", name, **params)


def accuracy(document: Document, th: Thresholds) -> list[Finding]:
    out, limit = [], th.accuracy_points
    detects_nothing = nothing(document) == "detections"  # an mAP of 0 against 0 is not "kept"
    for name, b, ref in candidates(document):
        m, r = b["metrics"], ref["metrics"]
        acc, ref_acc = m.get("top1_accuracy"), r.get("top1_accuracy")
        if acc is not None and ref_acc is not None:
            delta = in_points(acc - ref_acc)
            key = "accuracy.top1/dropped" if delta < -limit else "accuracy.top1/kept"
            out.append(
                finding(
                    key,
                    "warn" if delta < -limit else "pass",
                    name,
                    name=name,
                    ref=document["reference"],
                    acc=acc * 100,
                    ref_acc=ref_acc * 100,
                    delta=delta,
                    drop=-delta,
                    top5=(m.get("top5_accuracy") or 0.0) * 100,
                    limit=limit,
                )
            )
        mine, theirs = m.get("map50"), r.get("map50")
        if mine is None or theirs is None or detects_nothing:
            continue
        delta = in_points(mine - theirs)
        params = {
            "name": name,
            "ref": document["reference"],
            "map": mine,
            "ref_map": theirs,
            "delta": delta,
            "drop": (theirs - mine) * 100,
            "mask": m.get("mask_map50") or 0.0,
            "limit": limit,
        }
        dropped = delta < -limit
        boxes_only = "_box" if m.get("mask_map50") is None else ""  # no mask metric: say nothing of masks
        out.append(
            finding(
                ("accuracy.map/dropped" if dropped else "accuracy.map/kept") + boxes_only,
                "warn" if dropped else "pass",
                name,
                **params,
            )
        )
    return out


def speed(document: Document, th: Thresholds) -> list[Finding]:
    out = []
    biased = biased_backends(document, th)
    for name, b, ref in candidates(document):
        measured = speedup_of(document, name)
        if measured is None:
            continue
        speedup, low, high = measured.value, measured.low, measured.high
        params = {
            "name": name,
            "ref": document["reference"],
            "speedup": speedup,
            "low": low,
            "high": high,
            "ms": b["latency_ms"]["median"],
            "ref_ms": ref["latency_ms"]["median"],
            "threads": b["threads"],
            "ref_threads": ref["threads"],
            "rounds": min(len(b["rounds"]), len(ref["rounds"])),
        }
        suspect = bool(biased & {name, document["reference"], None})
        # Measured causes from the profiles (analysis/causes.py); a biased timing's method cause stays first.
        because = causes.explain(document, name)
        verdict = speed_verdict((low, high), th.speed_tol)
        if verdict == FASTER:
            key, severity = (
                ("speed.latency/faster_method", "warn") if suspect else ("speed.latency/faster", "pass")
            )
            out.append(explained(finding(key, severity, name, **params), because))
        elif verdict == SAME:
            key, severity = (
                ("speed.latency/same_method", "warn") if suspect else ("speed.latency/same", "info")
            )
            out.append(explained(finding(key, severity, name, **params), because))
        elif suspect:
            out.append(explained(finding("speed.latency/slower_method", "warn", name, **params), because))
        elif b["settings"].get("quantization") == "dynamic":
            out.append(explained(finding("speed.latency/slower_dynamic", "warn", name, **params), because))
        else:
            out.append(explained(finding("speed.latency/slower", "warn", name, **params), because))
    return out


def size(document: Document, th: Thresholds) -> list[Finding]:
    out, fp16 = [], _measured_fp16(document)
    for name, b, ref in candidates(document):
        if size_ratio(b, ref) is None:  # a factory model without a weights file has no file to compare
            continue
        params = {
            "name": name,
            "ref": document["reference"],
            "ratio": size_ratio(b, ref),
            "mb": b["file_size_mb"],
            "ref_mb": ref["file_size_mb"],
            "dtype": b["weight_dtype"],
            "ref_dtype": ref["weight_dtype"],
        }
        if is_quantized(b):
            out.append(finding("size.file/quantized", "info", name, **params))
        elif is_fp16(b):
            out.append(finding("size.file/fp16", "info", name, **params))
        elif b["weight_dtype"] != ref["weight_dtype"] and fp16:
            # The advice cites the FP16 file this run measured instead of calling it untested.
            fp16_params = {**fp16, "fp16_ratio": fp16["fp16_mb"] / b["file_size_mb"]}
            out.append(finding("size.file/dtype_fp16", "info", name, **params, **fp16_params))
        elif b["weight_dtype"] != ref["weight_dtype"]:
            out.append(finding("size.file/dtype", "info", name, **params))
        else:
            out.append(finding("size.file/same_dtype", "info", name, **params))
    return out


def _measured_fp16(document: Document) -> dict | None:
    """Return the first measured FP16 backend's size, parity and speed as finding params, or None."""
    for name, b, _ in candidates(document):
        parity, speedup = b["parity"], speedup_of(document, name)
        if is_fp16(b) and b["file_size_mb"] and parity is not None and speedup is not None:
            return {
                "fp16": name,
                "fp16_mb": b["file_size_mb"],
                "fp16_rate": agreement_share(parity) * 100,
                "fp16_max_abs": parity["max_abs_diff"] or 0.0,
                "fp16_speedup": speedup.value,
            }
    return None


def memory(document: Document, th: Thresholds) -> list[Finding]:
    out = []
    for name, b, ref in candidates(document):
        m, r = b["memory_mb"], ref["memory_mb"]
        start, ref_start = m["at_start"], r["at_start"]
        if start is None or ref_start is None:  # a schema-1 file: the runtime's share unknown
            continue
        runtime, ref_runtime = m["before_load"] - start, r["before_load"] - ref_start
        model, ref_model = m["after_load"] - m["before_load"], r["after_load"] - r["before_load"]
        params = {
            "name": name,
            "ref": document["reference"],
            "peak": m["peak"],
            "ref_peak": r["peak"],
            "runtime": runtime,
            "ref_runtime": ref_runtime,
            "model": model,
            "ref_model": ref_model,
        }
        runtime_dominates = abs(runtime - ref_runtime) > abs(model - ref_model)
        out.append(
            finding(
                "memory.peak/runtime" if runtime_dominates else "memory.peak/model", "info", name, **params
            )
        )
    return out


def efficiency(document: Document, th: Thresholds) -> list[Finding]:
    peak = document["environment"]["peak_gflops"]
    flops = document["model"]["flops"]
    if not peak or not flops:
        return []
    return [
        finding(
            "efficiency.gflops/int8" if is_quantized(b) else "efficiency.gflops/float",
            "info",
            name,
            name=name,
            gflops=gflops,
            peak=peak,
            share=gflops / peak * 100,
            gflop=flops / 1e9,
        )
        for name, b in ok_backends(document)
        if (gflops := b["gflops"]) is not None
    ]


RULES: list[Callable[[Document, Thresholds], list[Finding]]] = [
    step_findings,
    failures,
    output_parity,
    detection_agreement,
    accuracy,
    speed,
    compile_cost,
    size,
    memory,
    efficiency,
    method,
    too_few,
    nothing_findings,
    states,
    advice,
    batch_sizes,
]
