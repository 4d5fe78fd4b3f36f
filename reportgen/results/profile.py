"""How a results document records where a backend's time goes (schema 5, issue 18): its profile pass,
one fresh process after the timed rounds under the runtime's own profiler
(reportgen/measure/worker/profile.py). Times are per call, means over the typical profiled calls.
Part of the results schema (reportgen/results/schema.py), which reads it from here.
"""

from __future__ import annotations

from typing import Annotated

from typing_extensions import NotRequired, TypedDict

from reportgen.results.leaves import NonNegative, OptText, PositiveInteger, Text, choice


class OpTime(TypedDict):
    """by_op.<op type>: the time of every node of one op type in a call, and how many run."""

    ms: NonNegative
    count: NonNegative


class NodeTime(TypedDict):
    """top[i]: one of the nodes that take the most time (runtime name, op type, module or null)."""

    name: Text
    op: Text
    module: OptText
    ms: NonNegative


class Profile(TypedDict):
    """backends.<name>.profile. A failed profile pass holds its status and error only."""

    status: Annotated[str, choice("ok", "failed")]
    error: OptText
    tool: NotRequired[Text]  # "onnxruntime profiler", "openvino performance counters", "torch.profiler"
    note: NotRequired[OptText]  # what the tool cannot see (no module calls in a frozen graph)
    calls: NotRequired[PositiveInteger]  # profiled calls kept (within 1.25x of the median wall time)
    load_ms: NotRequired[NonNegative]
    plain_ms: NotRequired[NonNegative]  # a call's median without the profiler, moments before
    wall_ms: NotRequired[NonNegative]  # a call's wall time under the profiler
    kernel_ms: NotRequired[NonNegative]  # the sum of its nodes' times
    outside_ms: NotRequired[NonNegative]  # wall - nodes: runtime, Python and profiler overhead
    unattributed_ms: NotRequired[NonNegative]  # node time tied to no PyTorch module
    nodes: NotRequired[NonNegative]  # nodes run per call
    by_op: NotRequired[dict[str, OpTime]]  # the runtime's op types (Conv, ConvInteger, aten::conv2d)
    by_module: NotRequired[dict[str, NonNegative]]  # module paths cut to 4 segments
    by_where: NotRequired[dict[str, NonNegative]]  # execution provider (ORT), executed kernel (OpenVINO)
    unattributed_by_op: NotRequired[dict[str, NonNegative]]  # op type -> its nodes' time tied to no module
    top: NotRequired[list[NodeTime]]
