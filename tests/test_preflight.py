"""Issue 20: a config mistake is one line naming its key, seconds after the start (exit 2); an export
failure is its key lines in the results; a file's precision is read from the file. Real models, real
torch and ONNX Runtime, no mocks."""

import json
import re
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

FACTORIES = Path(__file__).parent  # the config's folder goes on the import path: factories.<module>:...
QUICK = "measurement: {rounds: 1, warmup_iterations: 1, min_iterations: 3, min_time_s: 0.05, max_time_s: 1, profile: false"


def _run(tmp_path, name, body, extra=""):
    config = FACTORIES / f".tmp-{tmp_path.name}-{name}.yaml"  # beside factories/ so the factory imports
    config.write_text(f"version: {name}\n" + textwrap.dedent(body) + f"{QUICK}{extra}}}\n")
    out = tmp_path / f"{name}.json"
    started = time.perf_counter()
    try:
        command = [sys.executable, "-m", "reportgen", "run", "-c", str(config), "-o", str(out)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    finally:
        config.unlink()
    return result, out, time.perf_counter() - started


def _one_line(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "\x1b" not in result.stderr and "Traceback" not in result.stderr
    return line


TOKENS = """\
model:
  source: factory
  factory: "factories.preflight:kwargs_tokens"
  task: raw
  inputs:
    - {{name: input_ids, dtype: {dtype}, shape: [batch, 12], values: {{kind: integers, low: 0, high: {high}}}}}
    - {{name: attention_mask, dtype: int64, shape: [batch, 12], values: {{kind: ones}}, keyword: true}}
    - {{name: {keyword}, dtype: int64, shape: [batch, 12], values: {{kind: zeros}}, keyword: true}}
dataset: {{source: random, images: 4}}
backends:
  - {{name: pytorch, kind: pytorch}}
  - {{name: onnxruntime, kind: onnxruntime}}
"""


def _tokens(dtype="int64", high=100, keyword="token_type_ids"):
    return TOKENS.format(dtype=dtype, high=high, keyword=keyword)


@pytest.mark.slow
def test_a_keyword_that_kwargs_would_swallow_is_one_line_with_the_close_match(tmp_path):
    result, _, seconds = _run(tmp_path, "swallowed", _tokens(keyword="token_types_ids"))
    line = _one_line(result)
    assert "model.inputs[2].name: 'token_types_ids' is not an argument of forward()" in line
    assert "swallow it through **kwargs" in line and "expected 'token_type_ids'" in line
    assert seconds < 20


@pytest.mark.slow
def test_float_token_ids_name_the_input_and_the_embedding(tmp_path):
    result, _, seconds = _run(tmp_path, "float-ids", _tokens(dtype="float32"))
    line = _one_line(result)
    assert "model.inputs[0].dtype: input_ids is float32" in line
    assert "feeds embeddings, an nn.Embedding of 100 rows (token ids): expected int64 or int32" in line
    assert "could not be loaded" not in line
    assert seconds < 20


@pytest.mark.slow
def test_token_ids_past_the_vocabulary_name_the_range_and_the_size(tmp_path):
    result, _, seconds = _run(tmp_path, "past-vocabulary", _tokens(high=1000))
    line = _one_line(result)
    assert "model.inputs[0].values: input_ids holds values from " in line and " to 99" in line
    assert "an nn.Embedding of 100 rows: expected values from 0 to 99 (integers: low 0, high 100)" in line
    assert seconds < 20


MISMATCH = """\
model:
  source: factory
  factory: "factories.models:token_classifier"
  task: raw
  inputs:
    - {name: input_ids, dtype: int64, shape: [batch, 32], values: {kind: integers, low: 0, high: 50}}
    - {name: attention_mask, dtype: int64, shape: [batch, 64], values: {kind: ones}}
dataset: {source: random, images: 4}
backends:
  - {name: pytorch, kind: pytorch}
  - {name: onnxruntime, kind: onnxruntime}
"""


@pytest.mark.slow
def test_inputs_of_mismatched_shapes_are_named_with_their_shapes(tmp_path):
    result, _, seconds = _run(tmp_path, "mismatch", MISMATCH, ", batch_sizes: [1, 2]")
    line = _one_line(result)
    assert "model.inputs: the reference failed on the configured inputs at batch size 1" in line
    assert "must match the size of tensor" in line
    assert "the config gives input_ids int64 [1, 32], attention_mask int64 [1, 64]" in line
    assert seconds < 20


@pytest.mark.slow
def test_an_export_failure_is_its_key_line_in_the_results_and_whole_in_the_log(tmp_path):
    # A keyword close to none of forward()'s names passes the preflight (it may be meant for
    # **kwargs), the reference runs, and torch.export refuses the dynamic_shapes that name it.
    result, out, _ = _run(tmp_path, "export", _tokens(keyword="extra_features"), ", batch_sizes: [1, 2]")
    assert result.returncode == 1, result.stderr  # every backend but the reference failed: results written
    assert "\x1b" not in result.stderr
    document = json.loads(out.read_text())
    error = document["model"]["onnx"]["error"]
    assert document["model"]["onnx"]["status"] == "failed"
    assert error.startswith(
        "torch.export failed: dynamic_shapes names ['input_ids', 'attention_mask', "
        "'extra_features'] against forward's"
    ), error
    assert "\x1b" not in error and len(error) < 500
    assert document["backends"]["pytorch"]["status"] == "ok"
    assert document["backends"]["onnxruntime"]["status"] == "failed"
    log = (tmp_path / "build" / "reportgen" / "export" / "export.log").read_text()
    assert "Exception summary" in log or "dynamic_shapes" in log


def test_colour_codes_are_stripped():
    from reportgen.measure.worker.preflight import plain

    assert (
        plain("\x1b[96mThis is step 1/3\x1b[0m of \x1b[1;31mexporting\x1b[m")
        == "This is step 1/3 of exporting"
    )


def test_a_files_precision_is_read_from_its_weights_and_casts(tmp_path):
    import onnx
    import torch
    from onnxconverter_common import float16
    from onnxruntime.quantization import QuantType, quantize_dynamic

    sys.path.insert(0, str(FACTORIES))
    from factories.models import tiny_classifier

    from reportgen.measure.modelfile import describe_onnx

    fp32 = tmp_path / "model.onnx"
    with warnings.catch_warnings():  # the legacy exporter is deprecated: and quick for a tiny file
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            tiny_classifier(), (torch.zeros(1, 3, 32, 32),), str(fp32), dynamo=False, input_names=["images"]
        )
    assert describe_onnx(fp32)["precision"] == "fp32"
    # What users get from half=True exports: float16 weights, float32 inputs cast at the entry.
    half = float16.convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True)
    onnx.save(half, str(tmp_path / "model.fp16.onnx"))
    described = describe_onnx(tmp_path / "model.fp16.onnx")
    assert described["precision"] == "fp16" and described["dtype"] == "float16"
    quantize_dynamic(str(fp32), str(tmp_path / "model.int8.onnx"), weight_type=QuantType.QUInt8)
    assert describe_onnx(tmp_path / "model.int8.onnx")["precision"] in ("int8", "int8-qdq")


@pytest.mark.slow
def test_a_model_that_cannot_be_loaded_still_writes_results_and_report(tmp_path):
    body = f"""\
model: {{source: factory, factory: "factories.preflight:unloadable", task: classification, input_size: 32}}
dataset: {{source: synthetic, images: 4}}
backends:
  - {{name: pytorch, kind: pytorch}}
  - {{name: onnxruntime, kind: onnxruntime}}
site: {{dir: {tmp_path / "site"}}}
"""
    config = FACTORIES / f".tmp-{tmp_path.name}-unloadable.yaml"
    config.write_text("version: unloadable\n" + body + QUICK + "}\n")
    try:
        command = [sys.executable, "-m", "reportgen", "build", "-c", str(config)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    finally:
        config.unlink()
    assert result.returncode == 1, result.stderr  # the README's exit 1: results and report written
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "the reference pytorch failed: FileNotFoundError: weights/model.pt" in line
    page = (tmp_path / "site" / "unloadable" / "index.html").read_text()
    assert "the factory model could not be loaded: FileNotFoundError" in page
    document = json.loads((tmp_path / "site" / "unloadable" / "results.json").read_text())
    assert document["model"]["onnx"]["status"] == "failed"


@pytest.mark.slow
def test_a_given_fp16_file_is_described_as_fp16_in_the_results(tmp_path):
    import onnx
    import torch
    from onnxconverter_common import float16

    sys.path.insert(0, str(FACTORIES))
    from factories.models import tiny_classifier

    fp32 = tmp_path / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            tiny_classifier(), (torch.zeros(1, 3, 32, 32),), str(fp32), dynamo=False, input_names=["input"]
        )
    half = tmp_path / "model.fp16.onnx"  # what a user's half=True export gives
    onnx.save(float16.convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True), str(half))
    body = f"""\
model: {{source: factory, factory: "factories.models:tiny_classifier", task: raw, input_shape: [1, 3, 32, 32]}}
export: {{onnx_file: {half}}}
dataset: {{source: random, images: 4}}
backends:
  - {{name: pytorch, kind: pytorch}}
  - {{name: onnxruntime, kind: onnxruntime}}
"""
    result, out, _ = _run(tmp_path, "fp16-file", body)
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["model"]["onnx"]["precision"] == "fp16"
    assert document["backends"]["onnxruntime"]["weight_dtype"] == "float16"
    # Judged as FP16 on the page: its differences are the precision's, not a divergence to localize.
    from reportgen.analysis.assess import assess
    from reportgen.results.document import read_results

    judged = assess(read_results(out))
    parity = [f["key"] for f in judged.findings if f["id"] == "parity.outputs"]
    assert parity in (["parity.outputs/fp16"], ["parity.outputs/same"]), parity
    assert judged.backends["onnxruntime"].answers.severity != "fail"


def test_an_exporter_failure_keeps_the_head_and_the_root_cause(tmp_path):
    import torch

    from reportgen.measure.worker.export import export_error

    class DataDependent(torch.nn.Module):
        def forward(self, x):
            return x * 2 if x.sum().item() > 0 else x - 1

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                DataDependent(),
                (torch.ones(2, 3),),
                str(tmp_path / "m.onnx"),
                dynamo=True,
                external_data=False,
                verbose=False,
                dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=64)}},
            )
    except Exception as e:  # the exporter's own error, whatever its class
        line = export_error(e, None, [{"name": "x"}])
    else:
        pytest.skip("this torch exports data-dependent branches")
    assert line.startswith("Failed to export the model with torch.export: "), line
    assert "data-dependent" in line and "\x1b" not in line and len(line) < 500


@pytest.mark.slow
def test_the_preflight_runs_on_demand_without_timing(tmp_path):
    def config(name, body):
        path = FACTORIES / f".tmp-{tmp_path.name}-{name}.yaml"
        path.write_text(f"version: {name}\n" + body + QUICK + ", batch_sizes: [1, 3]}\n")
        return path

    def validate(path):
        command = [sys.executable, "-m", "reportgen", "validate", "--deep", str(path)]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)

    good = config("good", _tokens())
    try:
        done = validate(good)
    finally:
        good.unlink()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [
        "  the reference ran on the configured inputs at batch sizes 1, 3",
        "  ONNX file ok (dynamo, opset 18, fp32)",
    ]
    bad = config("bad", _tokens(keyword="token_types_ids"))
    try:
        done = validate(bad)
    finally:
        bad.unlink()
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert re.search(r"model.inputs\[2\].name: 'token_types_ids'.*'token_type_ids'", done.stderr)
