"""Rules over the results document: findings with severity, evidence, cause and recommendation.

Each rule reads measured values only; thresholds come from the config's ``analysis`` and ``parity``
sections. The rules on the method live in method.py; a finding and what rules read, in finding.py.
"""

from __future__ import annotations

from collections.abc import Callable

from reportgen.analysis.compiled import compile_cost
from reportgen.analysis.finding import (
    accuracy_of,
    agreement_share,
    alternatives,
    candidates,
    finding,
    in_points,
    is_fp16,
    is_quantized,
    is_reduced,
    ok_backends,
    size_ratio,
)
from reportgen.analysis.method import biased_backends, method, too_few
from reportgen.analysis.verdicts import FASTER, SAME, SEVERITY_ORDER, simplicity, speed_verdict
from reportgen.results.schema import Document, Finding, Parity


def findings(document: Document) -> list[Finding]:
    """Return every rule's findings, most severe first (stable within a severity)."""
    found = [f for rule in RULES for f in rule(document)]
    return sorted(found, key=lambda f: SEVERITY_ORDER[f["severity"]])


def failures(document: Document) -> list[Finding]:
    """A failed backend is a failure; one this machine cannot run (no GPU) is said, not failed."""
    out = []
    for name in document["backend_order"]:
        b = document["backends"][name]
        if b["status"] == "unavailable":
            out.append(finding("backend.unavailable", "info", name, name=name, error=b["error"]))
        elif b["status"] != "ok":
            out.append(finding("backend.failed", "fail", name, name=name, error=b["error"]))
    return out


def output_parity(document: Document) -> list[Finding]:
    out = []
    for name, b, _ in candidates(document):
        p = b["parity"]
        if p.get("letterbox_differs"):  # other tensor shapes by configuration: see letterbox()
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


def detection_agreement(document: Document) -> list[Finding]:
    out, minimum = [], document["config"]["parity"]["min_match_rate"]
    for name, b, _ in candidates(document):
        p = b["parity"]
        if "top1_agreement" in p:
            out.append(_class_agreement(name, document["reference"], p, minimum, is_reduced(b)))
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


def _class_agreement(name: str, ref: str, p: Parity, minimum: float, quantized: bool) -> Finding:
    params = {
        "name": name,
        "ref": ref,
        "top1": p["top1_agreement"] * 100,
        "top5": p["top5_overlap"] * 100,
        "dprob": p["max_abs_probability_delta"],
        "min": minimum * 100,
    }
    if p["top1_agreement"] >= minimum:
        return finding("parity.classes/same", "pass", name, **params)
    return finding("parity.classes/differ", "warn" if quantized else "fail", name, **params)


def accuracy(document: Document) -> list[Finding]:
    out, limit = [], document["config"]["analysis"]["max_map_drop_points"]
    for name, b, ref in candidates(document):
        m, r = b["metrics"], ref["metrics"]
        if "top1_accuracy" in m:
            delta = in_points(m["top1_accuracy"] - r["top1_accuracy"])
            key = "accuracy.top1/dropped" if delta < -limit else "accuracy.top1/kept"
            out.append(
                finding(
                    key,
                    "warn" if delta < -limit else "pass",
                    name,
                    name=name,
                    ref=document["reference"],
                    acc=m["top1_accuracy"] * 100,
                    ref_acc=r["top1_accuracy"] * 100,
                    delta=delta,
                    drop=-delta,
                    top5=m["top5_accuracy"] * 100,
                    limit=limit,
                )
            )
        if m.get("map50") is None or r.get("map50") is None:
            continue
        params = {
            "name": name,
            "ref": document["reference"],
            "map": m["map50"],
            "ref_map": r["map50"],
            "delta": in_points(m["map50"] - r["map50"]),
            "drop": (r["map50"] - m["map50"]) * 100,
            "mask": m.get("mask_map50") or 0.0,
            "limit": limit,
        }
        dropped = params["delta"] < -limit
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


def speed(document: Document) -> list[Finding]:
    out = []
    tolerance = document["config"]["analysis"]["speed_tolerance_pct"] / 100
    biased = biased_backends(document)
    for name, b, ref in candidates(document):
        low, high = b["speedup_interval"]
        params = {
            "name": name,
            "ref": document["reference"],
            "speedup": b["speedup"],
            "low": low,
            "high": high,
            "ms": b["latency_ms"]["median"],
            "ref_ms": ref["latency_ms"]["median"],
            "threads": b["threads"],
            "ref_threads": ref["threads"],
            "rounds": min(len(b["rounds"]), len(ref["rounds"])),
        }
        suspect = bool(biased & {name, document["reference"], None})
        verdict = speed_verdict((low, high), tolerance)
        if verdict == FASTER:
            key, severity = (
                ("speed.latency/faster_method", "warn") if suspect else ("speed.latency/faster", "pass")
            )
            out.append(finding(key, severity, name, **params))
        elif verdict == SAME:
            key, severity = (
                ("speed.latency/same_method", "warn") if suspect else ("speed.latency/same", "info")
            )
            out.append(finding(key, severity, name, **params))
        elif suspect:
            out.append(finding("speed.latency/slower_method", "warn", name, **params))
        elif b["settings"].get("quantization") == "dynamic":
            out.append(finding("speed.latency/slower_dynamic", "warn", name, **params))
        else:
            out.append(finding("speed.latency/slower", "warn", name, **params))
    return out


def size(document: Document) -> list[Finding]:
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
        if is_fp16(b) and b["file_size_mb"]:
            return {
                "fp16": name,
                "fp16_mb": b["file_size_mb"],
                "fp16_rate": agreement_share(b["parity"]) * 100,
                "fp16_max_abs": b["parity"]["max_abs_diff"] or 0.0,
                "fp16_speedup": b["speedup"],
            }
    return None


def memory(document: Document) -> list[Finding]:
    out = []
    for name, b, ref in candidates(document):
        m, r = b["memory_mb"], ref["memory_mb"]
        params = {
            "name": name,
            "ref": document["reference"],
            "peak": m["peak"],
            "ref_peak": r["peak"],
            "runtime": m["before_load"] - m["at_start"],
            "ref_runtime": r["before_load"] - r["at_start"],
            "model": m["after_load"] - m["before_load"],
            "ref_model": r["after_load"] - r["before_load"],
        }
        runtime_dominates = abs(params["runtime"] - params["ref_runtime"]) > abs(
            params["model"] - params["ref_model"]
        )
        out.append(
            finding(
                "memory.peak/runtime" if runtime_dominates else "memory.peak/model", "info", name, **params
            )
        )
    return out


def efficiency(document: Document) -> list[Finding]:
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
            gflops=b["gflops"],
            peak=peak,
            share=b["gflops"] / peak * 100,
            gflop=flops / 1e9,
        )
        for name, b in ok_backends(document)
    ]


def recommendation(document: Document) -> list[Finding]:
    """Name the fastest configuration that keeps the answers; among those tied with it, the simplest."""
    minimum = document["config"]["parity"]["min_match_rate"]
    limit = document["config"]["analysis"]["max_map_drop_points"]
    tolerance = document["config"]["analysis"]["speed_tolerance_pct"] / 100
    ref_name, biased = document["reference"], biased_backends(document)
    if biased & {ref_name, None}:  # every speed-up is measured against a disturbed reference
        return [finding("recommend.remeasure", "warn", None, ref=ref_name)]
    keeping = [
        (n, b, ref)
        for n, b, ref in candidates(document)
        if agreement_share(b["parity"]) >= minimum
        and (accuracy_of(b["metrics"]) or 0) >= (accuracy_of(ref["metrics"]) or 0) - limit / 100
        and speed_verdict(b["speedup_interval"], tolerance) == FASTER
        and n not in biased
    ]
    if not keeping:
        return _keep(document)
    fastest = max(keeping, key=lambda item: item[1]["speedup"])
    # Where a backend's interval reaches into the fastest one's, their order is noise: name the simplest,
    # say who is tied. Overlap, not the point estimate inside the interval: on the demo a backend's
    # median moved between runs by 30% (bench_repeatability), in and out of the fastest's interval.
    floor = min(fastest[1]["speedup_interval"][0], fastest[1]["speedup"])  # the fastest is tied with itself
    tied = [item for item in keeping if max(item[1]["speedup_interval"][1], item[1]["speedup"]) >= floor]
    name, b, ref = min(tied, key=lambda item: simplicity(item[1]))
    params = {
        "name": name,
        "ref": ref_name,
        "speedup": b["speedup"],
        "low": b["speedup_interval"][0],
        "high": b["speedup_interval"][1],
        "size": size_ratio(b, ref) or 0.0,
        "rate": agreement_share(b["parity"]) * 100,
        "delta": in_points((accuracy_of(b["metrics"]) or 0) - (accuracy_of(ref["metrics"]) or 0)),
    }
    if len(tied) > 1:
        others = ", ".join(f"{n} {o['speedup']:.2f}×" for n, o, _ in tied if n != name)
        return [finding("recommend.tied", "pass", name, **params, tied=others, fastest=fastest[0])]
    key = "recommend.fastest" if size_ratio(b, ref) else "recommend.fastest/unsized"
    return [finding(key, "pass", name, **params)]


def batch_sizes(document: Document) -> list[Finding]:
    """Say which batch size the recommendation is for, and who leads in throughput at the largest."""
    sizes = document["config"]["measurement"].get("batch_sizes") or [1]
    if len(sizes) < 2:
        return []
    largest = max(sizes)
    rates = [
        (name, entry["throughput_per_s"])
        for name, b in ok_backends(document)
        if (entry := (b.get("by_batch_size") or {}).get(str(largest), {})).get("status") == "ok"
    ]
    if not rates:
        return []
    best, throughput = max(rates, key=lambda item: item[1])
    listed = ", ".join(f"{name} {rate:.1f}/s" for name, rate in sorted(rates, key=lambda item: -item[1]))
    params = {"batch": sizes[0], "largest": largest, "best": best, "throughput": throughput, "listed": listed}
    return [finding("recommend.batch", "info", best, **params)]


def _keep(document: Document) -> list[Finding]:
    """Keep the reference; the advice names the alternatives as measured or untested, as they were."""
    ref_name = document["reference"]
    if document["backends"][ref_name]["status"] != "ok":
        return []
    measured, untested = alternatives(document)
    if not measured:
        return [finding("recommend.keep", "info", ref_name, ref=ref_name)]
    listed = {"measured": ", ".join(measured), "untested": ", ".join(untested) or "-"}
    return [finding("recommend.keep/measured", "info", ref_name, ref=ref_name, **listed)]


RULES: list[Callable[[Document], list[Finding]]] = [
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
    recommendation,
    batch_sizes,
]
