"""Pair the nodes of two ONNX graphs of one model: the user's file and a fresh export of the reference.

Names alone do not carry across files: the TorchScript-based exporter names nodes by module scope
(``/model.0/conv/Conv``) and numbers its values and folded weights (``onnx::Conv_1092``) by trace
order, so another torch version, a graph tool (onnxslim, onnx-simplifier) or the dynamo exporter
name the same computation differently. Structure does carry: walking both graphs in topological
order, a node pairs with the other graph's node of the same op type whose inputs are the paired
values, with constants (initializers, Constant nodes) matched by shape. Where several nodes fit
(two heads reading one feature map), the one of the same name wins, else the first unpaired, since
an exporter writes nodes in the order the model runs them.
"""

from __future__ import annotations

from collections import defaultdict

import onnx

from reportgen.measure.worker.onnxvalues import fed_inputs

Key = tuple


def align(mine: onnx.GraphProto, theirs: onnx.GraphProto) -> list[onnx.NodeProto | None]:
    """Return, for each node of ``mine`` in order, the node of ``theirs`` that computes the same thing
    (None: no counterpart; Constant nodes are never paired, their values are matched by shape)."""
    their_nodes = list(theirs.node)
    paired = dict(zip(fed_inputs(mine), fed_inputs(theirs), strict=False))  # value -> value
    mine_constants, their_constants = _constants(mine), _constants(theirs)
    by_key: dict[Key | None, list[int]] = defaultdict(list)
    by_name: dict[str, int] = {}
    for i, node in enumerate(their_nodes):
        if node.op_type != "Constant":
            by_key[_key(node, their_constants, lambda v: v)].append(i)
            by_name.setdefault(node.name, i)
    taken: set[int] = set()
    pairs: list[onnx.NodeProto | None] = []
    for node in mine.node:
        key = None if node.op_type == "Constant" else _key(node, mine_constants, paired.get)
        fitting = [i for i in by_key.get(key, []) if i not in taken] if key is not None else []
        match = None if node.op_type == "Constant" else _pick(node, fitting, their_nodes, by_name, taken)
        pairs.append(None if match is None else their_nodes[match])
        if match is not None:
            taken.add(match)
            paired.update(
                (a, b) for a, b in zip(node.output, their_nodes[match].output, strict=False) if a and b
            )
    return pairs


def _pick(
    node: onnx.NodeProto,
    fitting: list[int],
    their_nodes: list[onnx.NodeProto],
    by_name: dict[str, int],
    taken: set[int],
) -> int | None:
    """Return the free node that fits by structure (the same-named one first), else the free
    same-named node of the same op type: a name derived from the module scope holds across files."""
    if fitting:
        return next((i for i in fitting if their_nodes[i].name == node.name), fitting[0])
    same_name = by_name.get(node.name) if node.name else None
    if same_name is not None and same_name not in taken and their_nodes[same_name].op_type == node.op_type:
        return same_name
    return None


def _key(node: onnx.NodeProto, constants: dict[str, tuple], paired) -> Key | None:
    """Return what a node computes from: its op and its inputs (paired values, or constants by
    shape); None while an input is not paired yet. Attributes are left out: tools drop or spell out
    defaults differently, and the inputs already tell two nodes of one op apart."""
    inputs: list[tuple | None] = []
    for value in node.input:
        if not value:
            inputs.append(None)  # an omitted optional input
        elif value in constants:
            inputs.append(("constant", constants[value]))
        else:
            other = paired(value)
            if other is None:
                return None
            inputs.append(other)
    return (node.op_type, node.domain, tuple(inputs))


def _constants(graph: onnx.GraphProto) -> dict[str, tuple]:
    """Return the shape of every constant value: initializers and Constant nodes' outputs."""
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.output:
            value = next((a.t for a in node.attribute if a.name == "value"), None)
            shapes[node.output[0]] = tuple(value.dims) if value is not None else ()
    return shapes
