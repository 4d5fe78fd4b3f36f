"""Config schema: the shipped configs load, defaults hold, and every error reads exactly as documented."""

import json
from pathlib import Path

import pytest

from reportgen.config.schema import (
    BackendConfig,
    Config,
    config_reference,
    json_schema,
    load_config,
    parse_config,
    with_overrides,
)
from reportgen.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def config_error(tmp_path: Path, text: str) -> tuple[str, str]:
    """Write `text` as a config file, load it, and return (its path, the ConfigError message)."""
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(path), str(caught.value)


def test_demo_config_loads():
    config = load_config(ROOT / "configs" / "demo.yaml")
    assert config.version == "0.1.0"
    assert config.title
    assert [(b.name, b.kind) for b in config.backends][:3] == [
        ("pytorch", "pytorch"),
        ("onnxruntime", "onnxruntime"),
        ("torchscript", "torchscript"),
    ]
    assert {b.graph_optimization for b in config.backends if b.kind == "onnxruntime"} == {
        "disabled",
        "basic",
        "extended",
        "all",
    }
    assert {b.quantization for b in config.backends} == {"none", "static", "dynamic"}
    # Apart from its labels and its list of backends, the demo writes out exactly the defaults.
    labels = {"version", "title", "backends"}
    assert config.model_dump(mode="json", exclude=labels) == Config().model_dump(mode="json", exclude=labels)


def test_seed_methodology_config_keeps_its_mistakes():
    config = load_config(ROOT / "configs" / "seed-methodology.yaml")
    assert config.version == "seed-methodology"
    ort, torch = config.backend("onnxruntime"), config.backend("pytorch")
    assert (config.threads_for(ort), config.warmup_for(ort)) == (1, 0)
    assert ort.time_load_in_latency is True
    assert ort.graph_optimization == "disabled"
    assert (config.threads_for(torch), config.warmup_for(torch)) == (2, 10)
    assert torch.time_load_in_latency is False


def test_empty_file_gives_the_defaults(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing but a comment\n", encoding="utf-8")
    config = load_config(path)
    assert config == Config()
    assert config.version == "dev"
    assert config.reference == "pytorch"
    assert [b.name for b in config.backends] == ["pytorch", "onnxruntime"]
    assert config.measurement.threads == 2
    assert config.export.opset == 18


def test_dump_is_json_ready_and_round_trips():
    config = load_config(ROOT / "configs" / "seed-methodology.yaml")
    dumped = config.model_dump(mode="json")
    assert parse_config(json.loads(json.dumps(dumped)), "results.json") == config


def test_threads_and_warmup_resolve_per_backend():
    config = parse_config(
        {
            "measurement": {"threads": 4, "warmup_iterations": 3},
            "backends": [
                {"name": "pytorch", "kind": "pytorch"},
                {"name": "ort", "kind": "onnxruntime", "threads": 1, "warmup_iterations": 0},
            ],
        },
        "inline",
    )
    assert (config.threads_for("pytorch"), config.warmup_for("pytorch")) == (4, 3)
    assert (config.threads_for(config.backends[1]), config.warmup_for("ort")) == (1, 0)


def test_checkpoint_is_relative_to_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.yaml"
    path.write_text("model:\n  checkpoint: ../weights/best.pt\n", encoding="utf-8")
    assert load_config(path).model.checkpoint == str(tmp_path / "weights" / "best.pt")


def test_exponent_floats_are_numbers(tmp_path):
    # PyYAML alone would read 1e-4 (no dot) as the string '1e-4'.
    path = tmp_path / "c.yaml"
    path.write_text("parity:\n  atol: 1e-5\n  rtol: 2E-3\n", encoding="utf-8")
    parity = load_config(path).parity
    assert (parity.atol, parity.rtol) == (1e-5, 2e-3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "backends:\n  - {name: pytorch, kind: pytorch}\n"
            "  - {name: ort, kind: onnxruntime, threads: two}\n",
            "backends[1].threads: expected a positive integer, got 'two'",
        ),
        (
            "model:\n  colour: red\n",
            "model.colour: unknown key (expected one of: checkpoint, class_names, factory, input_shape, input_size, mean, name, python_path, source, std, task, trust_checkpoint)",
        ),
        (
            "backends:\n  - kind: pytorch\n",
            "backends[0].name: missing required key",
        ),
        (
            "backends:\n  - {name: pytorch, kind: pytorch}\n  - {name: pytorch, kind: onnxruntime}\n",
            "backends[1].name: expected a name no other backend has, got 'pytorch'",
        ),
        (
            "reference: ort\nbackends:\n"
            "  - {name: torch, kind: pytorch}\n  - {name: ort, kind: onnxruntime}\n",
            "reference: expected the name of a backend of kind 'pytorch' (backends of that kind: 'torch'),"
            " got 'ort'",
        ),
        (
            "backends:\n  - {name: ort, kind: onnxruntime}\n",
            "reference: expected the name of a backend of kind 'pytorch' (backends has none of that kind),"
            " got 'pytorch'",
        ),
        (
            "backends:\n  - {name: pytorch, kind: pytorch, graph_optimization: disabled}\n",
            "backends[0].graph_optimization: expected no graph_optimization on a backend of kind 'pytorch'"
            " (an onnxruntime option), got 'disabled'",
        ),
        (
            "version: ../x\n",
            "version: expected a label of letters, digits, '.', '_' or '-' that starts with a letter or digit"
            " (at most 64 characters, not 'assets' or 'index'), got '../x'",
        ),
        (
            "version: assets\n",
            "version: expected a label of letters, digits, '.', '_' or '-' that starts with a letter or digit"
            " (at most 64 characters, not 'assets' or 'index'), got 'assets'",
        ),
        (
            "export:\n  exporter: torchscript\n",
            "export.exporter: expected one of 'dynamo', 'legacy', got 'torchscript'",
        ),
        (
            "postprocess:\n  conf_threshold: 1.5\n",
            "postprocess.conf_threshold: expected a number between 0 and 1, exclusive, got 1.5",
        ),
        (
            "measurement:\n  min_iterations: 100\n  max_iterations: 10\n",
            "measurement.max_iterations: expected a positive integer of at least min_iterations (100),"
            " got 10",
        ),
        (
            "measurement:\n  threads: true\n",
            "measurement.threads: expected a positive integer, got True",
        ),
        (
            "model: resnet\n",
            "model: expected a mapping, got 'resnet'",
        ),
    ],
)
def test_validation_error_message(tmp_path, text, expected):
    path, message = config_error(tmp_path, text)
    assert message == f"{path}: {expected}"


def test_yaml_syntax_error(tmp_path):
    path, message = config_error(tmp_path, "model:\n  name: [unclosed\n")
    assert message == f"{path}: line 3, column 1: invalid YAML: expected ',' or ']', but got '<stream end>'"


def test_duplicate_yaml_key(tmp_path):
    path, message = config_error(tmp_path, "measurement:\n  threads: 2\n  threads: 4\n")
    assert message == f"{path}: line 3, column 3: invalid YAML: duplicate key 'threads'"


def test_top_level_must_be_a_mapping(tmp_path):
    path, message = config_error(tmp_path, "- pytorch\n- onnxruntime\n")
    assert message == f"{path}: expected a mapping of config keys, got ['pytorch', 'onnxruntime']"


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: no such file"
    assert caught.value.exit_code == 2


def test_all_errors_reported_at_once_in_key_order(tmp_path):
    text = (
        "version: ../x\n"
        "locale: fr\n"
        "model:\n  input_size: 0\n  colour: red\n"
        "backends:\n"
        "  - {name: pytorch, kind: pytorch}\n"
        "  - {name: pytorch, kind: onnxruntime, threads: 0}\n"
        "  - {kind: onnxruntime}\n"
        "measurement:\n  timeout_s: -1\n"
    )
    path, message = config_error(tmp_path, text)
    assert message.splitlines() == [
        f"{path}: backends[1].name: expected a name no other backend has, got 'pytorch'",
        f"{path}: backends[1].threads: expected a positive integer, got 0",
        f"{path}: backends[2].name: missing required key",
        f"{path}: locale: expected one of 'en', 'ko', got 'fr'",
        f"{path}: measurement.timeout_s: expected a positive number, got -1",
        f"{path}: model.colour: unknown key (expected one of: checkpoint, class_names, factory, input_shape, input_size, mean, name, python_path, source, std, task, trust_checkpoint)",
        f"{path}: model.input_size: expected a positive integer (a multiple of 32 for detection/segmentation),"
        " got 0",
        f"{path}: version: expected a label of letters, digits, '.', '_' or '-' that starts with a letter"
        " or digit (at most 64 characters, not 'assets' or 'index'), got '../x'",
    ]
    assert "pydantic" not in message and "http" not in message


def test_invariants_hold_when_built_in_code():
    with pytest.raises(ValueError):  # pydantic's ValidationError; only load_config words it for users
        Config(backends=[BackendConfig(name="ort", kind="onnxruntime")])
    with pytest.raises(ValueError):
        BackendConfig(name="pytorch", kind="pytorch", graph_optimization="basic")


def test_every_key_is_described():
    def walk(model, prefix):
        for name, field in model.model_fields.items():
            assert field.description, f"{prefix}{name} has no description"
            assert "\n" not in field.description
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                walk(annotation, f"{prefix}{name}.")

    walk(Config, "")
    walk(BackendConfig, "backends[].")


def test_docs_are_generated_from_the_schema():
    # Regenerate with the command at the top of docs/config.md.
    assert (ROOT / "docs" / "config.md").read_text(encoding="utf-8") == config_reference()
    assert "| `backends[].time_load_in_latency` |" in config_reference()


def test_json_schema_forbids_unknown_keys():
    schema = json_schema()
    assert schema["additionalProperties"] is False
    assert {"version", "backends", "measurement"} <= set(schema["properties"])
    json.dumps(schema)


def test_command_line_overrides_are_validated_like_the_file():
    config = load_config(ROOT / "configs" / "demo.yaml")
    assert with_overrides(config, "configs/demo.yaml", version=None, locale=None) is config
    changed = with_overrides(config, "configs/demo.yaml", version="0.2.0", locale="ko")
    assert (changed.version, changed.locale, changed.backends) == ("0.2.0", "ko", config.backends)
    with pytest.raises(ConfigError) as caught:
        with_overrides(config, "configs/demo.yaml", version="../x", locale=None)
    assert str(caught.value) == (
        "configs/demo.yaml with --version: version: expected a label of letters, digits, '.', '_' or '-'"
        " that starts with a letter or digit (at most 64 characters, not 'assets' or 'index'), got '../x'"
    )


@pytest.mark.parametrize(
    "text, line",
    [
        (
            "model: {source: torchscript}\nexport: {exporter: legacy}\n",
            "model.checkpoint: expected the torchscript model file, got None",
        ),
        (
            "model: {source: factory}\n",
            "model.factory: expected 'package.module:function' for source factory, got None",
        ),
        (
            "model: {source: torchscript, checkpoint: m.pt}\n",
            "export.exporter: expected 'legacy' for a torchscript model (torch.export cannot trace a ScriptModule),"
            " got 'dynamo'",
        ),
        (
            "model: {input_size: 100}\n",
            "model.input_size: expected a multiple of 32 for segmentation, got 100",
        ),
        (
            "model: {task: classification}\n",
            "dataset.source: expected 'folder' or 'random' for task classification (synthetic shapes are for"
            " detection/segmentation), got 'synthetic'",
        ),
        (
            "dataset: {source: folder}\n",
            "dataset.path: expected the image folder for source folder, got None",
        ),
        (
            "model: {task: detection}\ndataset: {source: folder, path: x, labels: folders}\n",
            "dataset.labels: expected labels that fit task detection: 'coco', 'yolo' or 'none', got 'folders'",
        ),
        (
            "model: {factory: not-a-path}\n",
            "model.factory: expected 'package.module:function', got 'not-a-path'",
        ),
        (
            "backends:\n  - {name: pytorch, kind: pytorch, quantization: static}\n",
            "backends[0].quantization: expected no quantization on a backend of kind 'pytorch' (it has no effect"
            " there), got 'static'",
        ),
        (
            "model: {input_shape: [1, 3, 8, 8]}\n",
            "model.input_shape: expected null unless model.task is raw (images are shaped by input_size), got [1, 3, 8, 8]",
        ),
    ],
)
def test_keys_that_do_not_fit_together(tmp_path, text, line):
    path, message = config_error(tmp_path, text)
    assert message == f"{path}: {line}"


def test_folder_paths_are_relative_to_the_config_file(tmp_path):
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "c.yaml"
    path.write_text(
        "model: {task: detection}\ndataset: {source: folder, path: ../imgs, labels: coco, labels_path: a.json}\n"
    )
    config = load_config(path)
    assert config.dataset.path == str(tmp_path / "imgs") and config.dataset.labels_path == str(
        tmp_path / "cfg" / "a.json"
    )
