"""Any model a team ships: named inputs of any dtype, Python scalars, batch sizes (unit and end to end)."""

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from reportgen.config.schema import parse_config
from reportgen.errors import ReportgenError
from reportgen.measure import inputs

FACTORIES = Path(__file__).parent  # the config's folder goes on the import path: factories.models:...
QUICK = "measurement: {rounds: 2, warmup_iterations: 2, min_iterations: 5, min_time_s: 0.05, max_time_s: 1, profile: false"
IDS = {"name": "input_ids", "dtype": "int64", "shape": ["batch", 12], "keyword": False}
MASK = {"name": "attention_mask", "dtype": "int64", "shape": ["batch", 12], "keyword": False}
SR = {"name": "sr", "dtype": "int64", "shape": [], "keyword": False}


def _config(*specs, **dataset):
    model = {"task": "raw", "inputs": list(specs)}
    return parse_config({"model": model, "dataset": {"source": "random", "images": 5, **dataset}}, "c.yaml")


def test_generated_values_follow_the_spec_and_the_seed():
    config = _config(
        {
            "name": "ids",
            "dtype": "int64",
            "shape": ["batch", 6],
            "values": {"kind": "integers", "low": 3, "high": 7},
        },
        {"name": "mask", "dtype": "bool", "shape": ["batch", 6], "values": {"kind": "ones"}},
        {"name": "sr", "dtype": "int64", "shape": [], "values": {"kind": "constant", "value": 16000}},
        {
            "name": "noise",
            "dtype": "float16",
            "shape": [2, "batch"],
            "values": {"kind": "normal", "std": 0.5},
        },
    )
    samples = inputs.generate(config, 5, seed=1)
    assert samples["ids"].shape == (5, 1, 6) and samples["ids"].dtype == np.int64
    assert samples["ids"].min() >= 3 and samples["ids"].max() < 7
    assert samples["mask"].dtype == bool and samples["mask"].all()
    assert samples["sr"].shape == (5,) and (samples["sr"] == 16000).all()
    assert samples["noise"].shape == (5, 2, 1) and samples["noise"].dtype == np.float16
    again = inputs.generate(config, 5, seed=1)
    assert all(np.array_equal(samples[k], again[k]) for k in samples)
    assert not np.array_equal(inputs.generate(config, 5, seed=2)["ids"], samples["ids"])


def test_file_values_are_read_along_the_batch_axis(tmp_path):
    np.save(tmp_path / "ids.npy", np.arange(40).reshape(8, 5))
    np.savez(tmp_path / "cols.npz", cols=np.arange(40).reshape(5, 8))
    config = _config(
        {
            "name": "ids",
            "dtype": "int64",
            "shape": ["batch", 5],
            "values": {"kind": "file", "path": str(tmp_path / "ids.npy")},
        },
        {
            "name": "cols",
            "dtype": "int32",
            "shape": [5, "batch"],
            "values": {"kind": "file", "path": str(tmp_path / "cols.npz")},
        },
    )
    samples = inputs.generate(config, 5, seed=0)
    assert samples["ids"].shape == (5, 1, 5) and samples["ids"][2, 0].tolist() == [10, 11, 12, 13, 14]
    assert samples["cols"].shape == (5, 5, 1) and samples["cols"].dtype == np.int32
    assert samples["cols"][3, :, 0].tolist() == [3, 11, 19, 27, 35]
    short = _config(
        {
            "name": "ids",
            "dtype": "int64",
            "shape": ["batch", 5],
            "values": {"kind": "file", "path": str(tmp_path / "ids.npy")},
        },
        images=9,
    )
    with pytest.raises(
        ReportgenError, match=r"ids.npy: model.inputs \(ids\).values.path: expected 9 samples"
    ):
        inputs.generate(short, 9, seed=0)


def test_a_batch_concatenates_batched_inputs_and_keeps_scalars():
    feeds = [{"input_ids": np.full((1, 12), i), "sr": np.array(8000)} for i in range(3)]
    batch = inputs.make_batch(feeds, [IDS, SR], 4)
    assert batch["input_ids"].shape == (4, 12) and batch["input_ids"][:, 0].tolist() == [0, 1, 2, 0]
    assert batch["sr"].shape == ()


def test_files_bind_by_name_then_by_position_and_say_which():
    assert inputs.bind([IDS, MASK], ["attention_mask", "input_ids"]) == {
        "by": "name",
        "names": {"input_ids": "input_ids", "attention_mask": "attention_mask"},
    }
    assert inputs.bind([IDS, MASK], ["ids:0", "mask:0"])["names"] == {
        "input_ids": "ids:0",
        "attention_mask": "mask:0",
    }
    # A file that baked the scalar in takes only the tensors; one that has it takes it by name.
    assert inputs.bind([IDS, SR], ["x"]) == {"by": "position", "names": {"input_ids": "x"}}
    assert inputs.bind([IDS, SR], ["input_ids", "sr"])["names"] == {"input_ids": "input_ids", "sr": "sr"}
    with pytest.raises(
        ReportgenError,
        match=r"the config gives 2 inputs \(input_ids, attention_mask\); the ONNX file takes 3",
    ):
        inputs.bind([IDS, MASK], ["a", "b", "c"])


# --- end to end: real exports, real runtimes -------------------------------------------------------


def _run(tmp_path, name, body):
    config = FACTORIES / f".tmp-{tmp_path.name}-{name}.yaml"  # beside factories/ so the factory imports
    config.write_text(f"version: {name}\n" + textwrap.dedent(body))
    out = tmp_path / f"{name}.json"
    try:
        command = [sys.executable, "-m", "reportgen", "run", "-c", str(config), "-o", str(out)]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path), out
    finally:
        config.unlink()


TOKENS = """\
    model:
      source: factory
      factory: "factories.models:token_classifier"
      task: raw
      inputs:
        - {name: input_ids, dtype: int64, shape: [batch, 12], values: {kind: integers, low: 0, high: 50}}
        - {name: attention_mask, dtype: int64, shape: [batch, 12], values: {kind: ones}}
    dataset: {source: random, images: 6}
    backends:
      - {name: pytorch, kind: pytorch}
      - {name: onnxruntime, kind: onnxruntime}
"""


@pytest.mark.slow
def test_two_int64_inputs_at_two_batch_sizes_end_to_end(tmp_path):
    result, out = _run(tmp_path, "tokens", TOKENS + "    " + QUICK + ", batch_sizes: [1, 4]}\n")
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["model"]["output_names"] == ["logits", "pooled"]  # a dict's outputs, by key
    assert document["model"]["input_binding"]["by"] == "name"
    ort = document["backends"]["onnxruntime"]
    assert ort["parity"]["allclose"] and set(ort["parity"]["outputs"]) == {"logits", "pooled"}
    for name in ("pytorch", "onnxruntime"):
        sizes = document["backends"][name]["by_batch_size"]
        assert set(sizes) == {"1", "4"} and all(s["status"] == "ok" for s in sizes.values())
        four = sizes["4"]
        assert four["throughput_per_s"] == pytest.approx(4000 / four["latency_ms"]["median"])
        assert four["memory_mb"] > 0
    assert (
        document["backends"]["pytorch"]["by_batch_size"]["1"]["latency_ms"]["median"]
        == (document["backends"]["pytorch"]["latency_ms"]["median"])
    )


RESAMPLER = """\
    model:
      source: torchscript
      checkpoint: {checkpoint}
      task: raw
      inputs:
        - {{name: x, shape: [batch, 64]}}
        - {{name: sr, dtype: int64, shape: [], values: {{kind: constant, value: 8000}}}}
    export: {{exporter: legacy{onnx_file}}}
    dataset: {{source: random, images: 4}}
    backends:
      - {{name: pytorch, kind: pytorch}}
      - {{name: onnxruntime, kind: onnxruntime}}
"""


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    """A TorchScript ``forward(x, sr: int)``, and an ONNX file of it whose inputs have other names."""
    import torch

    sys.path.insert(0, str(FACTORIES))
    from factories.models import resampler

    folder = tmp_path_factory.mktemp("scripted")
    module = resampler()
    # Both deprecated, and still how most TorchScript and ONNX files out there were made.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(module).save(str(folder / "resampler.pt"))
        _legacy_export(module, torch.zeros(2, 64), folder / "given.onnx", dynamic=True)
    return folder


def _legacy_export(module, x, path, dynamic):
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module,
            (x, 8000),
            str(path),
            input_names=["audio"],
            dynamo=False,
            dynamic_axes={"audio": {0: "n"}} if dynamic else None,
        )


@pytest.mark.slow
def test_a_python_int_argument_reaches_torch_and_onnx(tmp_path, scripted):
    body = RESAMPLER.format(checkpoint=scripted / "resampler.pt", onnx_file="")
    result, out = _run(tmp_path, "scalar", body + "    " + QUICK + "}\n")
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    # The legacy export of a ScriptModule keeps the int as an input (renamed): bound by position.
    assert document["model"]["input_binding"]["by"] == "position"
    assert document["backends"]["onnxruntime"]["parity"]["allclose"]


@pytest.mark.slow
def test_a_given_file_with_other_input_names(tmp_path, scripted):
    body = RESAMPLER.format(
        checkpoint=scripted / "resampler.pt", onnx_file=f", onnx_file: {scripted / 'given.onnx'}"
    )
    result, out = _run(tmp_path, "given", body + "    " + QUICK + ", batch_sizes: [1, 3]}\n")
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    # The legacy exporter made the int an input of its own name: bound by position, and fed.
    assert document["model"]["input_binding"] == {
        "by": "position",
        "names": {"x": "audio", "sr": "onnx::Cast_1"},
    }
    ort = document["backends"]["onnxruntime"]
    assert ort["parity"]["allclose"]
    assert ort["by_batch_size"]["3"]["status"] == "ok"


@pytest.mark.slow
def test_a_fixed_batch_file_is_measured_where_it_can_be(tmp_path, scripted):
    import torch

    sys.path.insert(0, str(FACTORIES))
    from factories.models import resampler

    fixed = tmp_path / "fixed.onnx"
    _legacy_export(resampler(), torch.zeros(1, 64), fixed, dynamic=False)
    body = RESAMPLER.format(checkpoint=scripted / "resampler.pt", onnx_file=f", onnx_file: {fixed}")
    result, out = _run(tmp_path, "fixed", body + "    " + QUICK + ", batch_sizes: [1, 3]}\n")
    assert result.returncode == 0, result.stderr
    sizes = json.loads(out.read_text())["backends"]["onnxruntime"]["by_batch_size"]
    assert sizes["1"]["status"] == "ok"
    assert sizes["3"]["status"] == "unsupported" and "fixed shape [1, 64]" in sizes["3"]["error"]


@pytest.mark.slow
def test_a_missing_argument_is_one_line_naming_config_forward_and_file(tmp_path, scripted):
    body = RESAMPLER.format(
        checkpoint=scripted / "resampler.pt", onnx_file=f", onnx_file: {scripted / 'given.onnx'}"
    )
    body = body.replace(
        "        - {name: sr, dtype: int64, shape: [], values: {kind: constant, value: 8000}}\n", ""
    )
    result, _ = _run(tmp_path, "missing", body + "    " + QUICK + "}\n")
    assert result.returncode == 2
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "model.inputs: forward() is missing a value for 'sr': the config gives (x); forward(x, sr)" in line
    assert "the ONNX file takes (audio, onnx::Cast_1)" in line


def test_outputs_are_named_by_position_or_by_key_path():
    from dataclasses import dataclass

    import torch

    from reportgen.measure.worker.models import named_outputs

    @dataclass
    class Output:  # like a transformers ModelOutput, with a field left unset
        logits: torch.Tensor
        hidden_states: tuple
        attentions: object = None

    a, b, c = torch.zeros(1), torch.ones(1), torch.full((1,), 2.0)
    assert list(named_outputs(a)) == ["output0"]
    assert list(named_outputs((a, [b, c]))) == ["output0", "output1", "output2"]  # Ultralytics' names
    assert list(named_outputs({"boxes": a, "extra": {"scores": b}})) == ["boxes", "extra.scores"]
    named = named_outputs(Output(a, (b, c)))
    assert list(named) == ["logits", "hidden_states.0", "hidden_states.1"]
    assert named["hidden_states.1"] is c
