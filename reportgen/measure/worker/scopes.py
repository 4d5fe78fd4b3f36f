"""Which PyTorch module an ONNX node, or a runtime's node made from it, came from.

The exporters record it: the dynamo exporter in each node's ``namespace`` metadata, the legacy
(TorchScript-based) one in the node's name (``/down4/down4.1/cv1/cv1.0/Conv``). A runtime renames
what it fuses or inserts (ONNX Runtime: ``getitem_3_nchwc``, ``node_silu_1/QuickGeluFusion/``,
``ReorderOutput_token_319``; OpenVINO: ``node_Conv_1304/WithoutBiases``,
``images_abcd_acdb_node_Conv_1304/WithoutBiases``), but keeps a name, an output or an input of an
original node in it. ``ModuleMap`` traces a runtime node back through those, and says when it cannot:
that time is reported as unattributed, never guessed. Imports onnx only (no torch).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import onnx

# A name shorter than this matches inside too many others (``x``, ``val``) to identify a node.
MIN_MATCH = 4


def module_path(node: onnx.NodeProto) -> str | None:
    """Return the PyTorch module path the exporter recorded for a node (``down4.1.cv1.1``).

    The dynamo exporter's ``namespace`` metadata reads ``: Net/down4: Sequential/.../down4.1.cv1.1:
    BatchNorm2d/op: aten.op``: the segment before the op is the innermost module. The legacy
    exporter's node name is the module scope (scope_name below).
    """
    for prop in node.metadata_props:
        if prop.key == "namespace":
            segments = prop.value.split("/")
            return segments[-2].split(":", 1)[0].strip() or None if len(segments) > 1 else None
    return scope_name(node.name)


def scope_name(name: str) -> str | None:
    """Return the module path of a legacy exporter's node name, None for a top-level or other name.

    ``/down4/down4.1/cv1/cv1.0/Conv`` is ``down4.1.cv1.0``: each scope is the module's attribute name,
    except that a child of a Sequential or ModuleList carries its parent's (``down4.1``), so a scope
    that extends the previous one replaces it. ``/model.0/conv/Conv`` (Ultralytics) is ``model.0.conv``.
    """
    if not name.startswith("/"):
        return None
    path: list[str] = []
    for scope in name.split("/")[1:-1]:
        if path and scope.startswith(path[-1] + "."):
            path[-1] = scope
        elif scope:
            path.append(scope)
    return ".".join(path) or None


class ModuleMap:
    """The module of every node of one or more ONNX graphs (the file a runtime loaded, then the
    export it was made from: a quantizer or converter may drop the exporter's metadata)."""

    def __init__(self, *models: onnx.ModelProto) -> None:
        self.by_node: dict[str, str] = {}  # node name -> module path
        self.by_value: dict[str, str] = {}  # a value a node produces -> its module path
        for model in models:
            for node in model.graph.node:
                module = module_path(node)
                if module is None:
                    continue
                self.by_node.setdefault(node.name, module)
                for value in node.output:
                    self.by_value.setdefault(value, module)
        # Longest first: inside ``getitem_31_nchwc`` the node of ``getitem_31`` wins over ``getitem_3``.
        names = sorted({*self.by_node, *self.by_value}, key=len, reverse=True)
        self._inside = re.compile("|".join(re.escape(n) for n in names if len(n) >= MIN_MATCH) or "(?!)")

    def module(self, name: str, outputs: Sequence[str] = (), inputs: Sequence[str] = ()) -> str | None:
        """Return the module of a runtime node: its own name, an original name inside it, the node
        that produced one of its outputs or inputs (a reorder or cast inserted next to it); None when
        nothing ties it to the model."""
        for candidate in _stems(name):  # its own name, then shorter: ``754_nchwc`` -> ``754``
            if candidate in self.by_node:
                return self.by_node[candidate]
            if candidate in self.by_value:
                return self.by_value[candidate]
        for value in outputs:
            if value in self.by_value:
                return self.by_value[value]
        found = self._inside.search(name)
        if found:
            return self.by_node.get(found.group(0)) or self.by_value[found.group(0)]
        return next((self.by_value[v] for v in inputs if v in self.by_value), None)


def _stems(name: str) -> list[str]:
    """Return a runtime name and what it was made of: before a ``/``, then without ``_`` suffixes."""
    head = name.split("/")[0]
    parts = head.split("_")
    return [name, *("_".join(parts[:i]) for i in range(len(parts), 0, -1))]
