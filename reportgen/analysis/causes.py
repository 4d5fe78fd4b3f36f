"""Why a backend is faster or slower than the reference, read from the backends' profiles (issue 18).

Every speed finding's cause is computed here, from what the runtimes' profilers measured
(results/profile.py): first where the time difference lies (the op family that moves most, and the
time outside operators), then each rule whose evidence is in the profiles: precision casts,
integer kernels against float ones, a lower optimization level against level ``all`` of the same
file, nodes on a fallback provider, nodes too small to keep the threads busy. A rule that lacks its
evidence says nothing; a backend without a profile gets a cause that says so, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reportgen.analysis.finding import is_fp16
from reportgen.analysis.optypes import family, family_count, family_ms, top_op
from reportgen.analysis.variants import Cause
from reportgen.results.profile import Profile
from reportgen.results.schema import Document, Measured, measured

# Families compared as one: an integer convolution replaces a float one.
GROUPS = {"int_conv": "conv", "int_matmul": "matmul"}
CAST_SHARE = 0.10  # casts worth naming: a tenth of the operators' time
FALLBACK_SHARE = 0.05
FOREIGN_SHARE = 0.10  # node time tied to no module of the model, worth naming
INSERTED = ("quantize", "cast", "layout")
SMALL_NODE_MS = 0.010  # nodes averaging under 10 us: threads and dispatch, not arithmetic, set the time
SAME = 0.05  # difference of operator time under which the profiles call two backends equal


def explain(document: Document, name: str) -> list[Cause]:
    """Return the causes of a candidate's speed against the reference, from the two profiles."""
    ref_name = document["reference"]
    ref, backend = _entry(document, ref_name), _entry(document, name)
    if ref is None or backend is None:
        return []
    missing = [n for n, b in ((name, backend), (ref_name, ref)) if _profile(b) is None]
    if missing:
        why = [(_profile_error(document, n)) for n in missing]
        return [_cause("cause.unprofiled", name=missing[0], why=why[0])]
    p, rp = _profile(backend), _profile(ref)
    assert p is not None and rp is not None
    found = [_breakdown(name, ref_name, p, rp)]
    for rule in RULES:
        cause = rule(document, name, backend, p)
        if cause is not None:
            found.append(cause)
    return found


def _entry(document: Document, name: str) -> Measured | None:
    return measured(document["backends"][name])


def _profile(backend: Measured) -> Profile | None:
    profile = backend.get("profile")
    return profile if profile and profile["status"] == "ok" else None


def _profiled(document: Document, name: str) -> Profile | None:
    entry = _entry(document, name)
    return None if entry is None else _profile(entry)


def _profile_error(document: Document, name: str) -> str:
    profile = document["backends"][name].get("profile")
    if profile is None:
        return "not profiled (measurement.profile: false, or a run before reportgen profiled)"
    return profile["error"] or "the profile pass failed"


def _cause(key: str, **params: Any) -> Cause:
    return {"key": key, "params": params}


def grouped_ms(profile: Profile) -> dict[str, float]:
    """Return time per call by family, integer kernels counted with their float family."""
    out: dict[str, float] = {}
    for fam, ms in family_ms(profile.get("by_op", {})).items():
        out[GROUPS.get(fam, fam)] = out.get(GROUPS.get(fam, fam), 0.0) + ms
    return out


def outside_ms(profile: Profile) -> float:
    """Return a call's time outside the operators: an unprofiled call minus the profiled nodes."""
    return max(profile.get("plain_ms", 0.0) - profile.get("kernel_ms", 0.0), 0.0)


def _breakdown(name: str, ref: str, p: Profile, rp: Profile) -> Cause:
    """Where the difference lies: the family that moves most in the direction of the difference
    (the gain of a faster backend, the loss of a slower one), with each side's top op type there."""
    mine, theirs = grouped_ms(p), grouped_ms(rp)
    # Operators against operators, both timed under their profilers (an unprofiled call is another figure).
    total = rp.get("kernel_ms", 0.0) - p.get("kernel_ms", 0.0)
    same = abs(total) <= SAME * rp.get("kernel_ms", 0.0)
    sign = 0.0 if same else (1.0 if total > 0 else -1.0)

    def moved(f: str) -> float:
        gain = theirs.get(f, 0.0) - mine.get(f, 0.0)
        return abs(gain) if same else sign * gain

    family_ = max(set(mine) | set(theirs), key=moved)
    op, ref_op = _top_in_group(p, family_), _top_in_group(rp, family_)
    params = {
        "name": name,
        "ref": ref,
        "ms": p.get("kernel_ms", 0.0),
        "ref_ms": rp.get("kernel_ms", 0.0),
        "op": op[0] if op else "-",
        "op_ms": mine.get(family_, 0.0),
        "ref_op": ref_op[0] if ref_op else "-",
        "ref_op_ms": theirs.get(family_, 0.0),
        "outside": outside_ms(p),
        "ref_outside": outside_ms(rp),
    }
    if same:
        return _cause("cause.breakdown/same", **params)
    share = (theirs.get(family_, 0.0) - mine.get(family_, 0.0)) / total
    return _cause(f"cause.breakdown/{'faster' if total > 0 else 'slower'}", **params, share=share)


def _top_in_group(profile: Profile, group: str) -> tuple[str, float] | None:
    by_op = profile.get("by_op", {})
    ops = [(op, t["ms"]) for op, t in by_op.items() if GROUPS.get(family(op), family(op)) == group]
    return max(ops, key=lambda o: o[1]) if ops else None


def _casts(document: Document, name: str, backend: Measured, p: Profile) -> Cause | None:
    """Precision casts: a runtime without half-precision kernels converts around the ops it runs."""
    by_op, kernel = p.get("by_op", {}), p.get("kernel_ms", 0.0)
    cast_ms = family_ms(by_op).get("cast", 0.0)
    # A half-precision file's casts are its cause whatever their share: they show the runtime has no
    # kernels at that precision (the convolutions run in FP32 between them); elsewhere only a large share.
    if not kernel or not cast_ms or (not is_fp16(backend) and cast_ms / kernel < CAST_SHARE):
        return None
    params = {
        "name": name,
        "casts": family_count(by_op, "cast"),
        "cast_ms": cast_ms,
        "share": cast_ms / kernel,
    }
    sibling = _float_sibling(document, backend) if is_fp16(backend) else None
    sp = _profiled(document, sibling) if sibling else None
    if sp is None:
        return _cause("cause.casts", **params, ms=kernel)
    # Against the FP32 file in the same runtime: half precision that computes no faster.
    conv, sibling_conv = grouped_ms(p).get("conv", 0.0), grouped_ms(sp).get("conv", 0.0)
    return _cause(
        "cause.casts/fp16", **params, ms=kernel, sibling=sibling, conv_ms=conv, sibling_conv_ms=sibling_conv
    )


def _integer(document: Document, name: str, backend: Measured, p: Profile) -> Cause | None:
    """Integer kernels against the float ones of the same runtime on the FP32 file (else the reference)."""
    by_op = p.get("by_op", {})
    families = family_ms(by_op)
    int_ms = families.get("int_conv", 0.0) + families.get("int_matmul", 0.0)
    if not int_ms:
        return None
    sibling = _float_sibling(document, backend) or document["reference"]
    sp = _profiled(document, sibling)
    if sp is None:
        return None
    theirs = family_ms(sp.get("by_op", {}))
    float_ms = theirs.get("conv", 0.0) + theirs.get("matmul", 0.0)
    int_op = max((o for o in (top_op(by_op, "int_conv"), top_op(by_op, "int_matmul")) if o), key=_ms)
    float_op = top_op(sp.get("by_op", {}), "conv") or top_op(sp.get("by_op", {}), "matmul") or ("-", 0.0)
    q_ms = families.get("quantize", 0.0) + families.get("cast", 0.0)
    variant = "slower" if int_ms + q_ms > float_ms else "faster"
    return _cause(
        f"cause.integer/{variant}",
        name=name,
        sibling=sibling,
        int_op=int_op[0],
        int_ms=int_ms,
        float_op=float_op[0],
        float_ms=float_ms,
        q_ms=q_ms,
        q_count=family_count(by_op, "quantize"),
    )


def _ms(op: tuple[str, float]) -> float:
    return op[1]


def _float_sibling(document: Document, backend: Measured) -> str | None:
    """Return a profiled FP32 backend of the same runtime (its float kernels, same machine, same run)."""
    for other in document["backend_order"]:
        entry = measured(document["backends"][other])
        if entry is None or entry is backend or entry["kind"] != backend["kind"] or _profile(entry) is None:
            continue
        settings = entry["settings"]
        if settings.get("quantization", "none") == "none" and settings.get("precision", "fp32") == "fp32":
            return other
    return None


def _level(document: Document, name: str, backend: Measured, p: Profile) -> Cause | None:
    """A lower ONNX Runtime optimization level against level ``all`` of the same file."""
    level = backend["settings"].get("graph_optimization")
    if backend["kind"] != "onnxruntime" or level in (None, "all"):
        return None
    sibling = _same_file_at_all(document, backend)
    if sibling is None:
        return None
    sp = _profiled(document, sibling)
    assert sp is not None
    mine, theirs = grouped_ms(p), grouped_ms(sp)
    nchwc = family_count(sp.get("by_op", {}), "layout") > family_count(p.get("by_op", {}), "layout")
    return _cause(
        "cause.level/nchwc" if nchwc else "cause.level",
        name=name,
        level=level,
        sibling=sibling,
        nodes=p.get("nodes", 0.0),
        sibling_nodes=sp.get("nodes", 0.0),
        conv_ms=mine.get("conv", 0.0),
        sibling_conv_ms=theirs.get("conv", 0.0),
        ms=p.get("kernel_ms", 0.0),
        sibling_ms=sp.get("kernel_ms", 0.0),
    )


def _same_file_at_all(document: Document, backend: Measured) -> str | None:
    for other in document["backend_order"]:
        entry = measured(document["backends"][other])
        if entry is None or entry["kind"] != "onnxruntime" or _profile(entry) is None:
            continue
        same_file = entry["model_path"] == backend["model_path"]
        if same_file and entry["settings"].get("graph_optimization", "all") == "all":
            return other
    return None


def _fallback(document: Document, name: str, backend: Measured, p: Profile) -> Cause | None:
    """Nodes on another execution provider than the first one the session was given."""
    providers = backend["settings"].get("providers") or []
    where, kernel = p.get("by_where", {}), p.get("kernel_ms", 0.0)
    if backend["kind"] != "onnxruntime" or not providers or not kernel:
        return None
    other = {w: ms for w, ms in where.items() if w != providers[0]}
    other_ms = sum(other.values())
    if other_ms / kernel < FALLBACK_SHARE:
        return None
    return _cause(
        "cause.fallback",
        name=name,
        provider=providers[0],
        other=", ".join(other),
        other_ms=other_ms,
        share=other_ms / kernel,
    )


def _small(document: Document, name: str, backend: Measured, p: Profile) -> Cause | None:
    """Nodes so short that starting and joining threads, not arithmetic, sets a call's time."""
    nodes, kernel = p.get("nodes", 0.0), p.get("kernel_ms", 0.0)
    if not nodes or kernel / nodes >= SMALL_NODE_MS:
        return None
    return _cause("cause.small", name=name, nodes=nodes, node_us=kernel / nodes * 1000, ms=kernel)


def _foreign(document: Document, name: str, backend: Measured, p: Profile) -> Cause | None:
    """Nodes no module of the model accounts for (work a file adds: a planted op, pre-processing baked
    in, a tool's rewrite), where the profile ties everything else to modules."""
    kernel = p.get("kernel_ms", 0.0)
    # Quantize, cast and layout nodes a converter inserts have their own rules above.
    loose = {op: ms for op, ms in p.get("unattributed_by_op", {}).items() if family(op) not in INSERTED}
    loose_ms = sum(loose.values())
    if not p.get("by_module") or not kernel or loose_ms / kernel < FOREIGN_SHARE:
        return None
    op, op_ms = max(loose.items(), key=lambda kv: kv[1])
    return _cause("cause.foreign", name=name, ms=loose_ms, share=loose_ms / kernel, op=op, op_ms=op_ms)


Rule = Callable[[Document, str, Measured, Profile], Cause | None]
RULES: tuple[Rule, ...] = (_casts, _integer, _level, _fallback, _foreign, _small)
