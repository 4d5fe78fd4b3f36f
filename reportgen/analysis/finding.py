"""One finding, and what every rule reads of a results document to make one.

A finding keeps its text key and ``params``: the English texts stored in the document come from
templates/locales/en.yaml (``rule.<key>.title`` ...), and a page in another language re-renders them
from the same key and params.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache

from typing_extensions import TypedDict

from reportgen import stats
from reportgen.analysis.variants import KEEPS_CAUSE, Cause, declared, declared_cause
from reportgen.analysis.verdicts import agreement
from reportgen.analysis.vocabulary import fill
from reportgen.catalog import load_catalog
from reportgen.results.schema import Backend, Document, Measured, Metrics, Parity, measured

PARTS = ("title", "evidence", "cause", "recommendation")


class Finding(TypedDict):
    """One finding: its text key and params (the page renders them in its language), its severity
    and backend (None: the whole run), and its English texts (for logs and tests)."""

    id: str  # the key before its variant: "speed.latency" of "speed.latency/faster"
    key: str
    params: dict[str, object]
    severity: str
    backend: str | None
    title: str | None
    evidence: str | None
    cause: str | None
    recommendation: str | None
    because: list[Cause]  # measured causes (analysis/causes.py): they replace the rule's own cause text


def finding(key: str, severity: str, backend: str | None, **params) -> Finding:
    """Return one finding of text ``key`` (``rule.<key>.*`` in the catalog), filled from ``params``;
    the key, its severity and its params as declared in analysis/variants.py."""
    declared(key, severity, params)
    catalog = load_catalog("en")
    filled = fill(params, catalog.__getitem__)  # its nouns in English (analysis/vocabulary.py)
    title, evidence, cause, recommendation = (
        text.format(**filled) if (text := catalog.get(f"rule.{key}.{part}")) else None for part in PARTS
    )
    return {
        "id": key.split("/")[0],
        "key": key,
        "severity": severity,
        "backend": backend,
        "params": params,
        "title": title,
        "evidence": evidence,
        "cause": cause,
        "recommendation": recommendation,
        "because": [],
    }


def explained(found: Finding, because: list[Cause]) -> Finding:
    """Return a finding with its measured causes (analysis/causes.py), its English cause composed."""
    for cause in because:
        declared_cause(cause["key"], cause["params"])
    catalog = load_catalog("en")
    own = catalog[k].format(**found["params"]) if (k := f"rule.{found['key']}.cause") in catalog else None
    return {**found, "because": because, "cause": composed_cause(found["key"], own, because, catalog)}


def composed_cause(
    key: str, own: str | None, because: list[Cause] | None, catalog: Mapping[str, str]
) -> str | None:
    """Return a finding's cause in a catalog's language: the measured causes replace the rule's own
    text, except where the variant keeps it first (analysis/variants.py KEEPS_CAUSE)."""
    if not because:
        return own
    measured = " ".join(catalog[c["key"]].format(**c["params"]) for c in because)
    return f"{own} {measured}" if own and key in KEEPS_CAUSE else measured


def ok_backends(document: Document) -> list[tuple[str, Measured]]:
    """Return (name, backend) of the backends that ran to the end, in config order."""
    found = ((n, measured(document["backends"][n])) for n in document["backend_order"])
    return [(n, b) for n, b in found if b is not None]


def candidates(document: Document) -> Iterator[tuple[str, Measured, Measured]]:
    """Yield (name, backend, reference backend) for every successful non-reference backend."""
    reference = measured(document["backends"][document["reference"]])
    if reference is not None:
        for name, backend in ok_backends(document):
            if name != document["reference"]:
                yield name, backend, reference


def speedup_of(document: Document, name: str) -> stats.Speedup | None:
    """Return a candidate's speed-up over the reference (> 1 faster), None unless both were timed.

    The one door through which the analysis reads a speed-up (verdicts, tie rule, recommendation):
    stats.speedup, from time-paired slices where the document has them, else from its rounds.
    """
    ref, backend = measured(document["backends"][document["reference"]]), measured(document["backends"][name])
    if ref is None or backend is None:
        return None
    return _speedup(_timing(ref), _timing(backend))


# A page, the index and the gate judge one document several times, and each estimate bootstraps
# (~15 ms a pair on the demo): cached by the timings' content, so an edited document is never stale.
_Timing = tuple[tuple[float, ...], tuple[int, ...], tuple[tuple[int, int, float, int], ...] | None]


def _timing(backend: Measured) -> _Timing:
    slices = backend.get("slices")
    return (
        tuple(backend["latency_ms"]["samples"]),
        tuple(r["n"] for r in backend["rounds"]),
        None if not slices else tuple((s["round"], s["cycle"], s["start_s"], s["n"]) for s in slices),
    )


@cache
def _speedup(reference: _Timing, candidate: _Timing) -> stats.Speedup:
    def entry(timing: _Timing) -> dict:
        samples, rounds, slices = timing
        keys = ("round", "cycle", "start_s", "n")
        return {
            "latency_ms": {"samples": list(samples)},
            "rounds": [{"n": n} for n in rounds],
            "slices": None if slices is None else [dict(zip(keys, s)) for s in slices],
        }

    return stats.speedup(entry(reference), entry(candidate))


def agreement_share(parity: Parity | None) -> float:
    """Return the share of predictions a candidate agrees on, whatever the task (0: not compared)."""
    if parity is None:
        return 0.0
    measured = agreement(parity)
    if measured is not None:
        return measured[1]
    return 1.0 if parity["allclose"] else 0.0  # raw tensors: agreement is output parity


def accuracy_of(metrics: Metrics | None) -> float | None:
    """Return the task's headline accuracy against ground truth (None without labels)."""
    if metrics is None:
        return None
    found = (metrics.get(key) for key in ("map50", "miou", "top1_accuracy"))
    return next((float(value) for value in found if isinstance(value, (int, float))), None)


def size_ratio(backend: Backend | Measured, reference: Backend | Measured) -> float | None:
    """Return the backend's file size over the reference's (None where either is unknown)."""
    if backend["file_size_mb"] and reference["file_size_mb"]:
        return backend["file_size_mb"] / reference["file_size_mb"]
    return None


def in_points(difference: float) -> float:
    """Return a rate difference in points; 0.0 below what one decimal shows (never "-0.0")."""
    points = difference * 100
    return 0.0 if abs(points) < 0.05 else points


def is_quantized(backend: Backend | Measured) -> bool:
    """Return whether the backend runs an INT8 file."""
    return (backend["settings"] or {}).get("quantization", "none") != "none"


def is_fp16(backend: Backend | Measured) -> bool:
    """Return whether the backend runs a half-precision file: an FP16 conversion of the export
    (onnxruntime precision: fp16), or an ONNX file whose weights are float16 or bfloat16 (a user's
    `half=True` export given as export.onnx_file; our FP32 export never has them)."""
    converted = (backend["settings"] or {}).get("precision", "fp32") == "fp16"
    # Only a runtime of the ONNX file: a PyTorch backend loads an FP16 checkpoint in FP32 (the demo's).
    half_file = backend["kind"] in ("onnxruntime", "openvino") and backend.get("weight_dtype") in (
        "float16",
        "bfloat16",
    )
    return converted or half_file


def is_reduced(backend: Backend | Measured) -> bool:
    """Return whether the backend runs in less than FP32 by design (INT8 or FP16): its answers may move."""
    return is_quantized(backend) or is_fp16(backend)


# What a kept reference's advice names as untested unless the run measured it (a successful backend).
ALTERNATIVES = {
    "TensorRT": lambda b: b["settings"].get("provider") == "tensorrt",
    "OpenVINO": lambda b: b["kind"] == "openvino",
    "FP16": is_fp16,
    "torch.compile": lambda b: b["kind"] == "torch_compile",
}


def alternatives(document: Document) -> tuple[list[str], list[str]]:
    """Return (measured, untested): the alternatives above that a successful backend of this run is."""
    ok = [b for _, b in ok_backends(document)]
    measured = [name for name, test in ALTERNATIVES.items() if any(test(b) for b in ok)]
    return measured, [name for name in ALTERNATIVES if name not in measured]
