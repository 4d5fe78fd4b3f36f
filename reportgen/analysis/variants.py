"""Every finding a rule can make, declared once: its text key, the page section it belongs to, the
params its texts are filled from and the severities it may have.

``finding.finding`` refuses anything else, and tests/test_report_locale.py checks the catalogs
(``rule.<key>.title/evidence/cause/recommendation``) against this table, so a text can never name a
param its rule does not pass. A new rule adds its rows here and its texts to every catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from typing_extensions import TypedDict

# The page section showing a family's findings (the part of the key before the dot).
TOPICS = {
    "backend": "other",
    "parity": "quality",
    "accuracy": "quality",
    "speed": "speed",
    "efficiency": "speed",
    "memory": "memory",
    "size": "size",
    "method": "method",
    "recommend": "recommendations",
}


@dataclass(frozen=True)
class Variant:
    """One finding variant: ``key`` is ``<family>.<rule>`` or ``<family>.<rule>/<variant>``."""

    key: str
    params: frozenset[str]
    severities: frozenset[str]

    @property
    def topic(self) -> str:
        """Return the page section that shows it."""
        return TOPICS[self.key.split(".")[0]]


# The params each rule passes, shared by its variants.
_OUTPUTS = "name ref atol rtol max_abs cosine"
_DETECTIONS = "name ref rate matched unmatched flips near min dconf"
_CLASSES = "name ref top1 top5 dprob min item"
_TOP1 = "name ref acc ref_acc delta drop top5 limit"
_MAP = "name ref map ref_map delta drop mask limit"
_LATENCY = "name ref speedup low high ms ref_ms threads ref_threads rounds"
_COMPILE = "name ref cold_s warm_s warm_rounds ref_first_s saved_ms"
_SIZE = "name ref ratio mb ref_mb dtype ref_dtype"
_FP16 = "fp16 fp16_mb fp16_rate fp16_max_abs fp16_speedup fp16_ratio"
_MEMORY = "name ref peak ref_peak runtime ref_runtime model ref_model"
_GFLOPS = "name gflops peak share gflop"
_TIMING = "name n cv min max_cv load_ms"
_TOO_FEW = "name ref count images rate low high width max needed"
_ADVICE = "name ref speedup low high size rate delta"

_ROWS = (
    ("backend.failed", "name error", "fail"),
    ("backend.unavailable", "name error", "info"),
    # a failed step (analysis/steps.py) and the backends it left unmeasured, said once
    ("backend.step/export", "names error", "fail"),
    ("backend.step/trace", "names error", "fail"),
    ("backend.step/quantization", "names error", "fail"),
    ("backend.step/fp16", "names error", "fail"),
    ("parity.outputs/incomparable", "name ref detail", "fail"),
    ("parity.outputs/same", _OUTPUTS, "pass"),
    ("parity.outputs/quantized", _OUTPUTS, "info"),
    ("parity.outputs/fp16", _OUTPUTS, "info"),
    ("parity.outputs/localized", f"{_OUTPUTS} node op module weights node_diff output", "fail"),
    ("parity.outputs/differ", _OUTPUTS, "fail"),
    ("parity.detections/letterbox", _DETECTIONS, "warn"),
    ("parity.detections/same", _DETECTIONS, "pass"),
    ("parity.detections/flips", _DETECTIONS, "warn"),
    ("parity.detections/differ", _DETECTIONS, "warn fail"),  # warn: a reduced precision
    ("parity.classes/same", _CLASSES, "pass"),
    ("parity.classes/differ", _CLASSES, "warn fail"),
    ("accuracy.top1/kept", _TOP1, "pass"),
    ("accuracy.top1/dropped", _TOP1, "warn"),
    ("accuracy.map/kept", _MAP, "pass"),
    ("accuracy.map/dropped", _MAP, "warn"),
    ("accuracy.map/kept_box", _MAP, "pass"),
    ("accuracy.map/dropped_box", _MAP, "warn"),
    ("speed.latency/faster", _LATENCY, "pass"),
    ("speed.latency/faster_method", _LATENCY, "warn"),
    ("speed.latency/same", _LATENCY, "info"),
    ("speed.latency/same_method", _LATENCY, "warn"),
    ("speed.latency/slower", _LATENCY, "warn"),
    ("speed.latency/slower_dynamic", _LATENCY, "warn"),
    ("speed.latency/slower_method", _LATENCY, "warn"),
    ("speed.compile/payback", f"{_COMPILE} calls", "info"),
    ("speed.compile/no_payback", _COMPILE, "info"),
    ("size.file/quantized", _SIZE, "info"),
    ("size.file/fp16", _SIZE, "info"),
    ("size.file/dtype", _SIZE, "info"),
    ("size.file/dtype_fp16", f"{_SIZE} {_FP16}", "info"),
    ("size.file/same_dtype", _SIZE, "info"),
    ("memory.peak/runtime", _MEMORY, "info"),
    ("memory.peak/model", _MEMORY, "info"),
    ("efficiency.gflops/float", _GFLOPS, "info"),
    ("efficiency.gflops/int8", _GFLOPS, "info"),
    ("method.threads", "detail", "warn"),
    ("method.contention", "share max", "warn"),
    ("method.steal", "share max", "warn"),
    ("method.rounds", "", "warn"),
    ("method.ok", "threads n rounds", "pass"),
    ("method.letterbox", "name ref mine theirs", "warn"),
    ("method.warmup", _TIMING, "warn"),
    ("method.load_in_latency", _TIMING, "warn"),
    ("method.optimization/compared", f"{_TIMING} level", "info"),
    ("method.optimization/only", f"{_TIMING} level", "warn"),
    ("method.samples", _TIMING, "warn"),
    ("method.noise", _TIMING, "warn"),
    ("method.repeatability", "name spread max rounds medians", "info"),
    ("method.repeatability/speedups", "name spread max rounds medians", "info"),
    ("method.contention/backend", "name share max", "warn"),
    ("method.too_few/agreement", _TOO_FEW, "warn"),
    ("method.too_few/agreement_images", _TOO_FEW + " item", "warn"),
    ("method.too_few/accuracy", _TOO_FEW, "warn"),
    ("method.too_few/accuracy_images", _TOO_FEW + " item", "warn"),
    # the reference's answers are empty or constant: the agreement verdicts are withheld (nothing.py)
    ("method.nothing/detections", "ref images", "warn"),
    ("method.nothing/one_class", "ref images", "warn"),
    ("method.nothing/constant", "ref images", "warn"),
    ("method.states", "name ref fast slow fast_pairs slow_pairs", "info"),
    ("recommend.remeasure", "ref", "warn"),
    ("recommend.keep", "ref", "info"),
    ("recommend.keep/measured", "ref measured untested", "info"),
    ("recommend.fastest", _ADVICE, "pass"),
    ("recommend.fastest/unsized", _ADVICE, "pass"),
    ("recommend.tied", f"{_ADVICE} tied fastest", "pass"),
    ("recommend.batch", "batch largest best throughput listed", "info"),
)
VARIANTS: dict[str, Variant] = {
    key: Variant(key, frozenset(params.split()), frozenset(severities.split()))
    for key, params, severities in _ROWS
}


class Cause(TypedDict):
    """One measured reason (analysis/causes.py), rendered from ``<key>`` in the page's language."""

    key: str
    params: dict[str, Any]


# The causes a speed finding may carry (analysis/causes.py), each rendered from ``<key>`` in the
# catalogs with these params; tests/test_report_locale.py checks the catalogs against this table.
_BREAKDOWN = "name ref ms ref_ms op op_ms ref_op ref_op_ms outside ref_outside"
_INTEGER = "name sibling int_op int_ms float_op float_ms q_ms q_count"
_LEVEL = "name level sibling nodes sibling_nodes conv_ms sibling_conv_ms ms sibling_ms"
_CAUSE_ROWS = (
    ("cause.unprofiled", "name why"),
    ("cause.breakdown/faster", f"{_BREAKDOWN} share"),
    ("cause.breakdown/slower", f"{_BREAKDOWN} share"),
    ("cause.breakdown/same", _BREAKDOWN),
    ("cause.casts", "name casts cast_ms share ms"),
    ("cause.casts/fp16", "name casts cast_ms share ms sibling conv_ms sibling_conv_ms"),
    ("cause.integer/slower", _INTEGER),
    ("cause.integer/faster", _INTEGER),
    ("cause.level", _LEVEL),
    ("cause.level/nchwc", _LEVEL),
    ("cause.fallback", "name provider other other_ms share"),
    ("cause.foreign", "name ms share op op_ms"),
    ("cause.small", "name nodes node_us ms"),
)
CAUSES: dict[str, frozenset[str]] = {key: frozenset(params.split()) for key, params in _CAUSE_ROWS}


# Findings whose own cause stays first, before the measured causes: a biased timing's method cause.
KEEPS_CAUSE = frozenset(f"speed.latency/{v}_method" for v in ("faster", "same", "slower"))


def declared_cause(key: str, params: dict[str, object]) -> None:
    """Raise ValueError where a cause breaks its declaration (a bug)."""
    if CAUSES.get(key) != set(params):
        want = sorted(CAUSES.get(key, ()))
        raise ValueError(f"cause {key!r} with params {sorted(params)}: declared {want}")


def declared(key: str, severity: str, params: dict[str, object]) -> Variant:
    """Return the variant of ``key``; raise ValueError where a rule breaks its declaration (a bug)."""
    variant = VARIANTS.get(key)
    if variant is None:
        raise ValueError(f"finding {key!r} is not declared in analysis/variants.py")
    if severity not in variant.severities or set(params) != variant.params:
        got = f"severity {severity!r}, params {sorted(params)}"
        want = f"{sorted(variant.severities)}, {sorted(variant.params)}"
        raise ValueError(f"finding {key!r}: got {got}; declared {want}")
    return variant
