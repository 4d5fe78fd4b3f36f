"""First-divergence localization on ONNX files our dynamo export did not write.

A legacy (TorchScript-based) export names its values ``/down4/down4.1/cv1/cv1.0/Conv_output_0``, not
after the torch.export graph, so the search exports the reference again with the file's exporter and
pairs the two graphs by structure. Planted faults: one weight of one convolution, after export.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from reportgen.analysis import rules
from reportgen.measure.modelfile import exporter_of
from reportgen.measure.worker.alignment import align

QUICK = """\
dataset: {images: 4}
measurement: {rounds: 1, warmup_iterations: 1, min_iterations: 3, min_time_s: 0.05, max_time_s: 1, profile: false}
"""


def _scope_name(name):
    from reportgen.measure.worker.scopes import scope_name

    return scope_name(name)


@pytest.mark.parametrize(
    "name, module",
    [
        ("/down4/down4.1/cv1/cv1.0/Conv", "down4.1.cv1.0"),
        ("/model.0/conv/Conv", "model.0.conv"),  # Ultralytics
        ("/model.22/cv2.0/cv2.0.2/Conv", "model.22.cv2.0.2"),
        ("/Concat", None),  # the model itself
        ("Conv_0", None),  # torch < 1.13
        ("node_Conv_12", None),  # dynamo: its module is in the metadata
    ],
)
def test_the_module_path_is_read_from_a_legacy_node_name(name, module):
    assert _scope_name(name) == module


def _graph(names: list[str], weights: list[str], producer: str = "pytorch") -> onnx.ModelProto:
    """Input -> Conv -> Relu -> Conv (two Convs on the Relu: heads reading one feature map)."""
    w = [numpy_helper.from_array(np.ones((2, 2, 1, 1), np.float32), n) for n in weights]
    nodes = [
        helper.make_node("Conv", ["x", weights[0]], ["a"], name=names[0]),
        helper.make_node("Relu", ["a"], ["b"], name=names[1]),
        helper.make_node("Conv", ["b", weights[1]], ["c"], name=names[2]),
        helper.make_node("Conv", ["b", weights[2]], ["d"], name=names[3]),
    ]
    value = helper.make_tensor_value_info
    graph = helper.make_graph(
        nodes,
        "g",
        [value("x", onnx.TensorProto.FLOAT, [1, 2, 4, 4])],
        [value(o, onnx.TensorProto.FLOAT, None) for o in ("c", "d")],
        w,
    )
    return helper.make_model(graph, producer_name=producer)


def test_graphs_are_paired_by_structure_whatever_their_names():
    legacy = _graph(["/a/Conv", "/Relu", "/box/Conv", "/cls/Conv"], ["onnx::Conv_1", "w2", "w3"])
    renamed = _graph(["", "", "", ""], ["p", "q", "r"], producer="othertool")
    twins = align(renamed.graph, legacy.graph)
    assert [t.name for t in twins] == ["/a/Conv", "/Relu", "/box/Conv", "/cls/Conv"]  # in order
    assert (exporter_of(legacy), exporter_of(renamed)) == ("legacy", None)


def test_the_same_name_wins_among_nodes_that_fit():
    mine = _graph(["/a/Conv", "/Relu", "/cls/Conv", "/box/Conv"], ["w1", "w2", "w3"])
    theirs = _graph(["/a/Conv", "/Relu", "/box/Conv", "/cls/Conv"], ["w1", "w2", "w3"])
    assert [t.name for t in align(mine.graph, theirs.graph)] == [n.name for n in mine.graph.node]


def _run(tmp_path, name, body, command="run"):
    config = tmp_path / f"{name}.yaml"
    site = tmp_path / "site"
    config.write_text(f"version: {name}\nsite: {{dir: {site}}}\n" + QUICK + textwrap.dedent(body))
    out = tmp_path / f"{name}.json"
    args = ["-o", str(out)] if command == "run" else []
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", command, "-c", str(config), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return json.loads((out if command == "run" else site / name / "results.json").read_text())


def _plant(path, out, conv: int) -> tuple[str, str]:
    """Add 0.5 to one weight of the ``conv``-th Conv node; return the node's and the weight's names."""
    model = onnx.load(path)
    node = [n for n in model.graph.node if n.op_type == "Conv"][conv]
    (init,) = [i for i in model.graph.initializer if i.name == node.input[1]]
    weights = numpy_helper.to_array(init).copy()
    weights.flat[0] += 0.5
    init.CopyFrom(numpy_helper.from_array(weights, init.name))
    onnx.save(model, out)
    return node.name, init.name


@pytest.mark.slow
def test_a_planted_fault_in_a_legacy_exported_file_is_located_by_the_report(tmp_path):
    doc = _run(tmp_path, "legacy", "export: {exporter: legacy}\nbackends: [{name: pytorch, kind: pytorch}]\n")
    exported = tmp_path / "build" / "reportgen" / "legacy" / doc["model"]["onnx"]["path"]
    assert exporter_of(onnx.load(exported)) == "legacy"
    node, weight = _plant(exported, tmp_path / "user.onnx", conv=21)
    assert node.startswith("/down5/")  # a legacy name, unknown to the torch graph

    doc = _run(tmp_path, "user", f"export: {{onnx_file: {tmp_path / 'user.onnx'}}}\n", command="build")
    divergence = doc["backends"]["onnxruntime"]["parity"]["first_divergence"]
    assert divergence["found"] and divergence["against"] == "legacy"
    assert (divergence["node"], divergence["op_type"]) == (node, "Conv")
    assert weight in divergence["initializers"] and divergence["module"] == "down5.1.cv1.0"
    assert divergence["aligned"] == divergence["nodes"]  # every computing node has its twin
    (finding,) = [f for f in rules.findings(doc) if f["id"] == "parity.outputs"]
    assert finding["key"] == "parity.outputs/localized" and node in finding["title"]
    assert weight in finding["cause"]
    page = (tmp_path / "site" / "user" / "index.html").read_text()
    assert f"<code>{node}</code> (Conv)" in page and f"<code>{weight}</code>" in page
    # What the file was compared with, and what the file says it was made with.
    assert "with those of a fresh legacy export of the PyTorch model" in page
    assert "made by pytorch " in page and "TorchScript-based (legacy) exporter, at opset 18" in page


def _renamed(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return the file as another tool might write it: no node names, values and weights renumbered."""
    graph, renamed = model.graph, {}
    kept = {v.name for v in (*graph.input, *graph.output)}
    for i, init in enumerate(graph.initializer):
        renamed[init.name] = f"w{i}"
        init.name = renamed[init.name]
    for node in graph.node:
        renamed.update((out, f"v{len(renamed)}") for out in node.output if out not in kept)
    for node in graph.node:
        node.name = ""
        node.input[:] = [renamed.get(v, v) for v in node.input]
        node.output[:] = [renamed.get(v, v) for v in node.output]
    model.producer_name = "othertool"
    return model


@pytest.mark.slow
def test_a_fault_in_a_file_of_another_tool_is_located_by_structure(tmp_path):
    import warnings

    import torch
    from factories.models import two_heads

    from reportgen.config.schema import parse_config
    from reportgen.measure import inputs
    from reportgen.measure.tasks import task_settings
    from reportgen.measure.worker.divergence import first_divergence

    model = {"source": "factory", "factory": "factories.models:two_heads", "task": "raw"}
    config = parse_config(
        {"model": {**model, "input_shape": [1, 3, 24, 24]}, "dataset": {"source": "random"}}, "x"
    )
    path = tmp_path / "tool.onnx"
    with warnings.catch_warnings():  # the legacy exporter is deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            two_heads(), (torch.zeros(1, 3, 24, 24),), str(path), dynamo=False, input_names=["input"]
        )
    exported = onnx.load(path)
    (gemm,) = [n for n in exported.graph.node if n.op_type == "Gemm"]  # the head: Linear(8, 5)
    _plant_into(exported, gemm.input[1])
    onnx.save(_renamed(exported), path)
    inputs.store_inputs(None, inputs.generate(config, 2, 0), [], tmp_path / "inputs")
    job = {
        "task": "raw",
        "task_settings": task_settings(config),
        "dataset_path": str(tmp_path / "inputs"),
        "model": config.model.model_dump(mode="json"),
        "inputs": inputs.specs(config),
        "onnx_path": str(path),
        "image": 1,
        "atol": config.parity.atol,
        "rtol": config.parity.rtol,
    }
    found = first_divergence(job)
    assert found["found"] and found["against"] == "legacy" and found["aligned"] == found["nodes"]
    assert found["op_type"] == "Gemm" and found["node"].startswith("Gemm #")  # unnamed in the file
    assert found["module"] == "head"  # from its twin in the fresh export: /head/Gemm
    weight = next(n for n in onnx.load(path).graph.node if n.op_type == "Gemm").input[1]
    assert weight in found["initializers"] and found["seconds"] < 60


def _plant_into(model: onnx.ModelProto, name: str) -> None:
    (init,) = [i for i in model.graph.initializer if i.name == name]
    weights = numpy_helper.to_array(init).copy()
    weights.flat[0] += 0.5
    init.CopyFrom(numpy_helper.from_array(weights, name))
