"""Rules over the results document: findings with severity, evidence, cause and recommendation.

Each rule reads measured values only and says how sure it is; thresholds come from the config's
``analysis`` and ``parity`` sections. Texts are English format strings filled from ``params``, which
are kept in the finding so a page can render it in another language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

SEVERITY_ORDER = {"fail": 0, "warn": 1, "info": 2, "pass": 3}


def finding(
    rule: str,
    severity: str,
    backend: str | None,
    params: dict,
    title: str,
    evidence: str,
    cause: str | None = None,
    recommendation: str | None = None,
) -> dict:
    """Return one finding, its texts filled from ``params``."""

    def fill(text: str | None) -> str | None:
        return text.format(**params) if text else None

    return {
        "id": rule,
        "severity": severity,
        "backend": backend,
        "params": params,
        "title": fill(title),
        "evidence": fill(evidence),
        "cause": fill(cause),
        "recommendation": fill(recommendation),
    }


def findings(document: dict) -> list[dict]:
    """Return every rule's findings, most severe first (stable within a severity)."""
    found = [f for rule in RULES for f in rule(document)]
    return sorted(found, key=lambda f: SEVERITY_ORDER[f["severity"]])


def _candidates(document: dict) -> Iterator[tuple[str, dict, dict]]:
    """Yield (name, backend, reference backend) for every successful non-reference backend."""
    reference = document["backends"].get(document["reference"], {})
    if reference.get("status") != "ok":
        return
    for name in document["backend_order"]:
        backend = document["backends"][name]
        if name != document["reference"] and backend["status"] == "ok":
            yield name, backend, reference


def failures(document: dict) -> list[dict]:
    return [
        finding(
            "backend.failed",
            "fail",
            name,
            {"name": name, "error": b["error"]},
            "{name} did not complete; it is left out of every comparison.",
            "{error}",
            "The backend's worker process reported: {error}",
            "Fix the error above and run again; the other backends' numbers stand.",
        )
        for name in document["backend_order"]
        if (b := document["backends"][name])["status"] != "ok"
    ]


def output_parity(document: dict) -> list[dict]:
    out = []
    for name, b, _ in _candidates(document):
        p = b["parity"]
        params = {
            "name": name,
            "ref": document["reference"],
            "max_abs": p["max_abs_diff"],
            "atol": p["atol"],
            "rtol": p["rtol"],
            "cosine": p["cosine_min"],
        }
        if p["allclose"]:
            out.append(
                finding(
                    "parity.outputs",
                    "pass",
                    name,
                    params,
                    "{name} computes the same raw outputs as {ref}.",
                    "max |diff| {max_abs:.2e} within atol {atol:g} + rtol {rtol:g}; "
                    "min cosine similarity {cosine:.6f}.",
                    "Differences of this size are floating-point reordering (fused kernels, "
                    "another summation order), not a conversion loss.",
                )
            )
        else:
            out.append(
                finding(
                    "parity.outputs",
                    "fail",
                    name,
                    params,
                    "{name}'s raw outputs differ from {ref} beyond tolerance.",
                    "max |diff| {max_abs:.3g} exceeds atol {atol:g} + rtol {rtol:g}; "
                    "min cosine similarity {cosine:.6f}.",
                    "A real numerical divergence in the exported graph (not float rounding).",
                    "Compare intermediate tensors to find the first diverging node before "
                    "shipping this export.",
                )
            )
    return out


def detection_agreement(document: dict) -> list[dict]:
    out = []
    minimum = document["config"]["parity"]["min_match_rate"]
    for name, b, _ in _candidates(document):
        p = b["parity"]
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
        evidence = (
            "{matched} detections matched ({rate:.1f}%), {unmatched} unmatched, mean |Δconfidence| "
            "{dconf:.2e}; {near} reference detections lie near the confidence threshold."
        )
        if p["detection_match_rate"] >= minimum:
            out.append(
                finding(
                    "parity.detections",
                    "pass",
                    name,
                    params,
                    "{name} finds the same objects as {ref} ({rate:.1f}% matched).",
                    evidence,
                )
            )
        elif p["unmatched_near_threshold"] >= unmatched:
            out.append(
                finding(
                    "parity.detections",
                    "warn",
                    name,
                    params,
                    "{name} matches only {rate:.1f}% of detections, all differences at the threshold.",
                    evidence,
                    "Every unmatched detection scores within the threshold band: tiny "
                    "score differences flip them across the threshold.",
                    "Not a model difference; judge accuracy by mAP, which is threshold-free.",
                )
            )
        else:
            out.append(
                finding(
                    "parity.detections",
                    "fail",
                    name,
                    params,
                    "{name} disagrees with {ref} on detections ({rate:.1f}% matched).",
                    evidence,
                    "{unmatched} unmatched detections, only {flips} explained by threshold flips: "
                    "the networks' outputs really differ.",
                    "Do not ship this export; check output parity for the diverging layer.",
                )
            )
    return out


def accuracy(document: dict) -> list[dict]:
    out = []
    for name, b, ref in _candidates(document):
        m, r = b["metrics"], ref["metrics"]
        params = {
            "name": name,
            "ref": document["reference"],
            "map": m["map50"],
            "ref_map": r["map50"],
            "delta": (m["map50"] - r["map50"]) * 100,
            "mask": m["mask_map50"] or 0.0,
        }
        severity = "warn" if params["delta"] < -1.0 else "pass"
        out.append(
            finding(
                "accuracy.map",
                severity,
                name,
                params,
                "{name}: box mAP@0.5 {map:.3f} against ground truth ({delta:+.1f} points vs {ref}).",
                "box mAP@0.5 {ref_map:.3f} → {map:.3f}; mask mAP@0.5 {mask:.3f}.",
                None if severity == "pass" else "Accuracy dropped by more than one point.",
                None if severity == "pass" else "Validate on your own labelled data before shipping.",
            )
        )
    return out


def speed(document: dict) -> list[dict]:
    out = []
    tolerance = document["config"]["analysis"]["speed_tolerance_pct"] / 100
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
        }
        evidence = (
            "median {ref_ms:.2f} ms → {ms:.2f} ms, speed-up {speedup:.2f}× "
            "(95% bootstrap interval {low:.2f}–{high:.2f}×), {threads} vs {ref_threads} threads."
        )
        if low > 1 + tolerance:
            out.append(
                finding(
                    "speed.latency",
                    "pass",
                    name,
                    params,
                    "{name} is {speedup:.2f}× faster than {ref}.",
                    evidence,
                )
            )
        elif high < 1 - tolerance:
            out.append(
                finding(
                    "speed.latency",
                    "warn",
                    name,
                    params,
                    "{name} is slower than {ref} ({speedup:.2f}×).",
                    evidence,
                    "See the method findings: unequal threads, "
                    "disabled optimizations or timed session creation make a runtime look slower.",
                    "Check the method findings before concluding.",
                )
            )
        else:
            out.append(
                finding(
                    "speed.latency",
                    "info",
                    name,
                    params,
                    "No measurable speed difference between {name} and {ref}.",
                    evidence,
                    "The interval includes a difference smaller than the noise tolerance.",
                )
            )
    return out


def size(document: dict) -> list[dict]:
    out = []
    for name, b, ref in _candidates(document):
        ratio = b["file_size_mb"] / ref["file_size_mb"]
        params = {
            "name": name,
            "ref": document["reference"],
            "ratio": ratio,
            "mb": b["file_size_mb"],
            "ref_mb": ref["file_size_mb"],
            "dtype": b["weight_dtype"],
            "ref_dtype": ref["weight_dtype"],
        }
        evidence = "{ref_mb:.2f} MB ({ref_dtype}) → {mb:.2f} MB ({dtype}), {ratio:.2f}×."
        if b["weight_dtype"] != ref["weight_dtype"]:
            out.append(
                finding(
                    "size.dtype",
                    "info",
                    name,
                    params,
                    "{name}'s file is {ratio:.2f}× the size of {ref}'s: {dtype} vs {ref_dtype} weights.",
                    evidence,
                    "The checkpoint stores {ref_dtype} weights, the ONNX file {dtype}: "
                    "bytes per weight differ, nothing was added or lost in conversion.",
                    "Compare files of one precision; for a smaller deployable file, measure an "
                    "FP16 or INT8 export (untested in this run).",
                )
            )
        else:
            out.append(
                finding("size.file", "info", name, params, "{name}'s file is {ratio:.2f}× {ref}'s.", evidence)
            )
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
        out.append(
            finding(
                "memory.peak",
                "info",
                name,
                params,
                "Peak memory: {name} {peak:.0f} MB, {ref} {ref_peak:.0f} MB.",
                "runtime import {runtime:.0f} vs {ref_runtime:.0f} MB; model load adds {model:.0f} vs "
                "{ref_model:.0f} MB (RSS of each backend's own fresh process).",
                "Most of the difference is the runtime library itself, before any model is loaded."
                if abs(params["runtime"] - params["ref_runtime"]) > abs(params["model"] - params["ref_model"])
                else "Most of the difference is what loading the model adds.",
            )
        )
    return out


def method(document: dict) -> list[dict]:
    """Flag measuring mistakes that bias the comparison, each saying how the numbers are affected."""
    analysis = document["config"]["analysis"]
    ok = [
        (n, document["backends"][n])
        for n in document["backend_order"]
        if document["backends"][n]["status"] == "ok"
    ]
    out = []
    threads = {b["threads"] for _, b in ok}
    if len(threads) > 1:
        detail = ", ".join(f"{n} {b['threads']}" for n, b in ok)
        out.append(
            finding(
                "method.threads",
                "warn",
                None,
                {"detail": detail},
                "Backends ran with unequal thread counts ({detail}).",
                "intra-op threads: {detail}.",
                "A backend with fewer threads looks slower for that reason alone.",
                "Give every backend the same thread count (measurement.threads).",
            )
        )
    for name, b in ok:
        out += _method_backend(name, b, analysis)
    load = document["environment"].get("load_average_per_core")
    if load is not None and load > analysis["max_load_average"]:
        out.append(
            finding(
                "method.load",
                "warn",
                None,
                {"load": load, "max": analysis["max_load_average"]},
                "Another process was loading the CPU before the run (load {load:.2f} per core).",
                "1-minute load average per core {load:.2f} > {max:.2f}.",
                "Competing processes add noise and slow every backend unevenly.",
                "Re-run on a quiet machine.",
            )
        )
    share = document["environment"].get("other_cpu_share")
    if share is not None and share > analysis["max_other_cpu_share"]:
        out.append(
            finding(
                "method.contention",
                "warn",
                None,
                {"share": share * 100, "max": analysis["max_other_cpu_share"] * 100},
                "Other processes used {share:.0f}% of the CPU during the run.",
                "CPU time of other processes {share:.0f}% of all cores > {max:.0f}%.",
                "Timings were taken on a shared CPU: multi-threaded runtimes suffer most "
                "(threads wait for each other), so ratios between backends are distorted.",
                "Re-run on a quiet machine.",
            )
        )
    if not out and ok:
        n = min(b["latency_ms"]["n"] for _, b in ok)
        out.append(
            finding(
                "method.ok",
                "pass",
                None,
                {"threads": min(threads), "n": n},
                "The measurements follow the method: equal threads, warm-up excluded, load timed apart.",
                "{threads} threads for every backend; at least {n} timed runs each after warm-up.",
            )
        )
    return out


def _method_backend(name: str, b: dict, analysis: dict) -> list[dict]:
    out = []
    settings, latency = b["settings"], b["latency_ms"]
    params = {
        "name": name,
        "n": latency["n"],
        "cv": latency["cv"] or 0.0,
        "min": analysis["min_samples"],
        "max_cv": analysis["max_cv"],
        "load_ms": b["load_ms"] or 0.0,
    }
    if settings.get("warmup_iterations") == 0:
        out.append(
            finding(
                "method.warmup",
                "warn",
                name,
                params,
                "{name} was timed without warm-up.",
                "0 warm-up runs before timing.",
                "First calls pay for allocation, kernel selection and caches; they inflate the "
                "latency and its spread.",
                "Run warm-up iterations and exclude them from the timing.",
            )
        )
    if settings.get("time_load_in_latency"):
        out.append(
            finding(
                "method.load_in_latency",
                "warn",
                name,
                params,
                "{name}'s latency includes model load / session creation.",
                "every timed sample re-created the model ({load_ms:.1f} ms once).",
                "Session creation is a one-time cost; counting it in every inference makes the "
                "runtime look many times slower.",
                "Time load apart from inference.",
            )
        )
    if settings.get("graph_optimization") in ("disabled", "basic"):
        out.append(
            finding(
                "method.optimization",
                "warn",
                name,
                {**params, "level": settings["graph_optimization"]},
                "{name} ran with graph optimizations '{level}'.",
                "graph_optimization_level = {level}.",
                "Without operator fusion ONNX Runtime runs the raw exported graph, slower than it "
                "would in production.",
                "Use graph_optimization: all unless you measure levels.",
            )
        )
    if latency["n"] < analysis["min_samples"]:
        out.append(
            finding(
                "method.samples",
                "warn",
                name,
                params,
                "{name} has only {n} timed samples.",
                "{n} samples < {min}.",
                "Medians and percentiles of few samples are unstable.",
                "Raise measurement.min_iterations or min_time_s.",
            )
        )
    if latency["cv"] is not None and latency["cv"] > analysis["max_cv"]:
        out.append(
            finding(
                "method.noise",
                "warn",
                name,
                params,
                "{name}'s timings are noisy (CV {cv:.2f}).",
                "coefficient of variation {cv:.2f} > {max_cv:.2f}.",
                "Something disturbed the timing: other processes, frequency scaling, or no warm-up.",
                "Re-run on a quiet machine; trust medians over means.",
            )
        )
    return out


RULES: list[Callable[[dict], list[dict]]] = [
    failures,
    output_parity,
    detection_agreement,
    accuracy,
    speed,
    size,
    memory,
    method,
]
