"""What an ONNX file says of itself: producer, exporter, and Ultralytics' class names in metadata."""

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from reportgen.measure.modelfile import class_names_of, describe_onnx, exporter_of

FACTORIES = Path(__file__).parent  # the config's folder goes on the import path: factories.models:...
NAMES = {0: "disc", 1: "block", 2: "wedge", 3: "plus"}


def _tiny(path: Path, producer=("pytorch", "2.13.0"), names: str | None = None, node="/body/Relu") -> Path:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name=node)],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 2])],
        [numpy_helper.from_array(np.zeros(1, np.float32), "unused")],
    )
    model = helper.make_model(graph, producer_name=producer[0], producer_version=producer[1])
    if names is not None:
        helper.set_model_props(model, {"names": names, "stride": "32"})
    onnx.save(model, path)
    return path


def test_a_file_names_its_producer_exporter_and_classes(tmp_path):
    described = describe_onnx(_tiny(tmp_path / "m.onnx", names=repr(NAMES)))
    assert described["producer"] == "pytorch 2.13.0" and described["made_with"] == "legacy"
    assert described["class_names"] == ["disc", "block", "wedge", "plus"]
    other = describe_onnx(_tiny(tmp_path / "o.onnx", producer=("onnxslim", ""), node="n0"))
    assert (other["producer"], other["made_with"], other["class_names"]) == ("onnxslim", None, None)
    dynamo = onnx.load(_tiny(tmp_path / "d.onnx", node="node_Relu_0"))
    assert exporter_of(dynamo) == "dynamo"


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch pwned')",  # code is never run: literal_eval refuses it
        "{0: 'a', 2: 'c'}",  # not consecutive from 0
        "{0: 1, 1: 2}",  # not names
        "{}",
        "{0: 'a'",  # not a literal
        "'person'",
    ],
)
def test_metadata_that_is_not_a_list_of_names_is_ignored(tmp_path, text):
    assert class_names_of(onnx.load(_tiny(tmp_path / "m.onnx", names=text))) is None
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_a_list_literal_is_read_too(tmp_path):
    assert class_names_of(onnx.load(_tiny(tmp_path / "m.onnx", names="['a', 'b']"))) == ["a", "b"]


@pytest.mark.slow
def test_class_names_come_from_the_given_files_metadata_when_config_and_model_name_none(tmp_path):
    import torch
    from factories.models import demo_net

    from reportgen.demo import DEFAULT_CHECKPOINT

    state = torch.load(DEFAULT_CHECKPOINT, weights_only=True)["state_dict"]
    weights = tmp_path / "demo_fp32.pt"
    torch.save({"state_dict": {k: v.float() for k, v in state.items()}}, weights)
    net = demo_net()
    net.load_state_dict(torch.load(weights, weights_only=True)["state_dict"])
    user = tmp_path / "user.onnx"
    with warnings.catch_warnings():  # the legacy exporter is deprecated: that is the point here
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            net.eval(), (torch.zeros(1, 3, 160, 160),), str(user), dynamo=False, input_names=["images"]
        )
    model = onnx.load(user)
    helper.set_model_props(model, {"names": repr(NAMES), "task": "segment"})  # as Ultralytics writes it
    onnx.save(model, user)

    config = FACTORIES / f".tmp-{tmp_path.name}-names.yaml"  # beside factories/ so the factory imports
    config.write_text(
        textwrap.dedent(f"""\
        version: names
        site: {{dir: {tmp_path / "site"}}}
        model: {{source: factory, factory: "factories.models:demo_net", checkpoint: {weights}}}
        export: {{onnx_file: {user}}}
        dataset: {{images: 4}}
        measurement: {{rounds: 1, warmup_iterations: 1, min_iterations: 3, min_time_s: 0.05, max_time_s: 1, profile: false}}
        backends: [{{name: pytorch, kind: pytorch}}, {{name: onnxruntime, kind: onnxruntime}}]
        """)
    )
    try:
        result = subprocess.run(
            [sys.executable, "-m", "reportgen", "build", "-c", str(config)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
    finally:
        config.unlink()
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "site" / "names" / "results.json").read_text())
    assert doc["model"]["class_names"] == list(NAMES.values())  # not the data set's circle, square...
    labels = {d["class_name"] for ex in doc["examples"] for dets in ex["detections"].values() for d in dets}
    assert labels and labels <= set(NAMES.values())
    assert doc["model"]["onnx"]["made_with"] == "legacy"
    page = (tmp_path / "site" / "names" / "index.html").read_text()
    assert "made by pytorch " in page and "class 0" not in page
