"""Rules over the results document: findings with severity, evidence, cause and recommendation.

Each rule reads measured values only; thresholds come from the config's ``analysis`` and ``parity``
sections. A finding keeps its text key and ``params``: the English texts stored in the document come
from templates/locales/en.yaml (``rule.<key>.title`` ...), and a page in another language re-renders
them from the same key and params.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from reportgen.analysis.verdicts import FASTER, SAME, simplicity, speed_verdict
from reportgen.report.locale import load_catalog

SEVERITY_ORDER = {"fail": 0, "warn": 1, "info": 2, "pass": 3}
PARTS = ("title", "evidence", "cause", "recommendation")


def finding(key: str, severity: str, backend: str | None, **params) -> dict:
    """Return one finding of text ``key`` (``rule.<key>.*`` in the catalog), filled from ``params``."""
    catalog = load_catalog("en")
    texts = {part: catalog.get(f"rule.{key}.{part}") for part in PARTS}
    return {
        "id": key.split("/")[0],
        "key": key,
        "severity": severity,
        "backend": backend,
        "params": params,
        **{part: text.format(**params) if text else None for part, text in texts.items()},
    }


def findings(document: dict) -> list[dict]:
    """Return every rule's findings, most severe first (stable within a severity)."""
    found = [f for rule in RULES for f in rule(document)]
    return sorted(found, key=lambda f: SEVERITY_ORDER[f["severity"]])


def _ok(document: dict) -> list[tuple[str, dict]]:
    return [
        (n, document["backends"][n])
        for n in document["backend_order"]
        if document["backends"][n]["status"] == "ok"
    ]


def _candidates(document: dict) -> Iterator[tuple[str, dict, dict]]:
    """Yield (name, backend, reference backend) for every successful non-reference backend."""
    reference = document["backends"].get(document["reference"], {})
    if reference.get("status") == "ok":
        for name, backend in _ok(document):
            if name != document["reference"]:
                yield name, backend, reference


def _agreement(parity: dict) -> float:
    """Return the share of predictions a candidate agrees on, whatever the task."""
    if "detection_match_rate" in parity:
        return parity["detection_match_rate"]
    if "top1_agreement" in parity:
        return parity["top1_agreement"]
    return 1.0 if parity["allclose"] else 0.0  # raw tensors: agreement is output parity


def _accuracy(metrics: dict) -> float | None:
    """Return the task's headline accuracy against ground truth (None without labels)."""
    return metrics.get("map50", metrics.get("top1_accuracy"))


def _size_ratio(backend: dict, reference: dict) -> float | None:
    if backend["file_size_mb"] and reference["file_size_mb"]:
        return backend["file_size_mb"] / reference["file_size_mb"]
    return None


def _points(difference: float) -> float:
    """Return a rate difference in points; 0.0 below what one decimal shows (never "-0.0")."""
    points = difference * 100
    return 0.0 if abs(points) < 0.05 else points


def _quantized(backend: dict) -> bool:
    return backend["settings"].get("quantization", "none") != "none"


def failures(document: dict) -> list[dict]:
    return [
        finding("backend.failed", "fail", n, name=n, error=b["error"])
        for n in document["backend_order"]
        if (b := document["backends"][n])["status"] != "ok"
    ]


def output_parity(document: dict) -> list[dict]:
    out = []
    for name, b, _ in _candidates(document):
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
        divergence = p.get("first_divergence") or {}
        if p["allclose"]:
            out.append(finding("parity.outputs/same", "pass", name, **common))
        elif _quantized(b):
            out.append(finding("parity.outputs/quantized", "info", name, **common))
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


def detection_agreement(document: dict) -> list[dict]:
    out, minimum = [], document["config"]["parity"]["min_match_rate"]
    for name, b, _ in _candidates(document):
        p = b["parity"]
        if "top1_agreement" in p:
            out.append(_class_agreement(name, document["reference"], p, minimum, _quantized(b)))
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
                finding("parity.detections/differ", "warn" if _quantized(b) else "fail", name, **params)
            )
    return out


def _class_agreement(name: str, ref: str, p: dict, minimum: float, quantized: bool) -> dict:
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


def letterbox(document: dict) -> list[dict]:
    """Flag backends fed through another letterbox than the reference: two pipelines, not one."""
    out = []
    for name, b, ref in _candidates(document):
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


def accuracy(document: dict) -> list[dict]:
    out, limit = [], document["config"]["analysis"]["max_map_drop_points"]
    for name, b, ref in _candidates(document):
        m, r = b["metrics"], ref["metrics"]
        if "top1_accuracy" in m:
            delta = _points(m["top1_accuracy"] - r["top1_accuracy"])
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
            "delta": _points(m["map50"] - r["map50"]),
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


def _biased(document: dict) -> set[str | None]:
    """Return the backends whose timing a method finding puts in doubt (None: the whole run's)."""
    return {f["backend"] for f in method(document) if f["severity"] == "warn"}


def speed(document: dict) -> list[dict]:
    out = []
    tolerance = document["config"]["analysis"]["speed_tolerance_pct"] / 100
    biased = _biased(document)
    for name, b, ref in _candidates(document):
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
            out.append(finding("speed.latency/same", "info", name, **params))
        elif suspect:
            out.append(finding("speed.latency/slower_method", "warn", name, **params))
        elif b["settings"].get("quantization") == "dynamic":
            out.append(finding("speed.latency/slower_dynamic", "warn", name, **params))
        else:
            out.append(finding("speed.latency/slower", "warn", name, **params))
    return out


def size(document: dict) -> list[dict]:
    out = []
    for name, b, ref in _candidates(document):
        if _size_ratio(b, ref) is None:  # a factory model without a weights file has no file to compare
            continue
        params = {
            "name": name,
            "ref": document["reference"],
            "ratio": _size_ratio(b, ref),
            "mb": b["file_size_mb"],
            "ref_mb": ref["file_size_mb"],
            "dtype": b["weight_dtype"],
            "ref_dtype": ref["weight_dtype"],
        }
        if _quantized(b):
            out.append(finding("size.file/quantized", "info", name, **params))
        elif b["weight_dtype"] != ref["weight_dtype"]:
            out.append(finding("size.file/dtype", "info", name, **params))
        else:
            out.append(finding("size.file/same_dtype", "info", name, **params))
    return out


def memory(document: dict) -> list[dict]:
    out = []
    for name, b, ref in _candidates(document):
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


def efficiency(document: dict) -> list[dict]:
    peak = document["environment"].get("peak_gflops")
    flops = document["model"].get("flops")
    if not peak or not flops:
        return []
    return [
        finding(
            "efficiency.gflops/int8" if _quantized(b) else "efficiency.gflops/float",
            "info",
            name,
            name=name,
            gflops=b["gflops"],
            peak=peak,
            share=b["gflops"] / peak * 100,
            gflop=flops / 1e9,
        )
        for name, b in _ok(document)
    ]


def method(document: dict) -> list[dict]:
    """Flag measuring mistakes that bias the comparison, each saying how the numbers are affected."""
    analysis, ok = document["config"]["analysis"], _ok(document)
    out = []
    if len({b["threads"] for _, b in ok}) > 1:
        detail = ", ".join(f"{n} {b['threads']}" for n, b in ok)
        out.append(finding("method.threads", "warn", None, detail=detail))
    for name, b in ok:
        out += _method_backend(name, b, analysis, ok)
    out += letterbox(document)
    share = document["environment"].get("other_cpu_share")
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
    steal = document["environment"].get("steal_share")
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


def _method_backend(name: str, b: dict, analysis: dict, ok: list[tuple[str, dict]]) -> list[dict]:
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
    spread = latency.get("round_spread")
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


def recommendation(document: dict) -> list[dict]:
    """Name the fastest configuration that keeps the answers; among those tied with it, the simplest."""
    minimum = document["config"]["parity"]["min_match_rate"]
    limit = document["config"]["analysis"]["max_map_drop_points"]
    tolerance = document["config"]["analysis"]["speed_tolerance_pct"] / 100
    ref_name, biased = document["reference"], _biased(document)
    if biased & {ref_name, None}:  # every speed-up is measured against a disturbed reference
        return [finding("recommend.remeasure", "warn", None, ref=ref_name)]
    keeping = [
        (n, b, ref)
        for n, b, ref in _candidates(document)
        if _agreement(b["parity"]) >= minimum
        and (_accuracy(b["metrics"]) or 0) >= (_accuracy(ref["metrics"]) or 0) - limit / 100
        and speed_verdict(b["speedup_interval"], tolerance) == FASTER
        and n not in biased
    ]
    if not keeping:
        reference = document["backends"].get(ref_name, {})
        return (
            [finding("recommend.keep", "info", ref_name, ref=ref_name)]
            if reference.get("status") == "ok"
            else []
        )
    fastest = max(keeping, key=lambda item: item[1]["speedup"])
    # Inside the fastest one's interval the order is noise: name the simplest, say who is tied.
    tied = [item for item in keeping if item[1]["speedup"] >= fastest[1]["speedup_interval"][0]]
    name, b, ref = min(tied, key=lambda item: simplicity(item[1]))
    params = {
        "name": name,
        "ref": ref_name,
        "speedup": b["speedup"],
        "low": b["speedup_interval"][0],
        "high": b["speedup_interval"][1],
        "size": _size_ratio(b, ref) or 0.0,
        "rate": _agreement(b["parity"]) * 100,
        "delta": _points((_accuracy(b["metrics"]) or 0) - (_accuracy(ref["metrics"]) or 0)),
    }
    if len(tied) > 1:
        others = ", ".join(f"{n} {o['speedup']:.2f}×" for n, o, _ in tied if n != name)
        return [finding("recommend.tied", "pass", name, **params, tied=others, fastest=fastest[0])]
    key = "recommend.fastest" if _size_ratio(b, ref) else "recommend.fastest/unsized"
    return [finding(key, "pass", name, **params)]


RULES: list[Callable[[dict], list[dict]]] = [
    failures,
    output_parity,
    detection_agreement,
    accuracy,
    speed,
    size,
    memory,
    efficiency,
    method,
    recommendation,
]
