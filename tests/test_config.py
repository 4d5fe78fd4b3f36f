"""Config schema: the shipped configs load, defaults hold, and every error reads exactly as documented."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reportgen.config.backends import MODELS
from reportgen.config.schema import (
    Config,
    config_reference,
    json_schema,
    load_config,
    parse_config,
    with_overrides,
)
from reportgen.config.sections import BackendBase
from reportgen.config.words import short_repr
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
    assert {b.quantization for b in config.backends if b.kind == "onnxruntime"} == {
        "none",
        "static",
        "dynamic",
    }
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


def test_a_config_stored_before_the_kinds_had_models_of_their_own_loads():
    # Results documents store the config as dumped; before one model per kind every backend wrote
    # every key (quantization on a pytorch backend, letterbox on an onnxruntime one), at its default.
    stored = json.loads((ROOT / "tests" / "data" / "results_demo.json").read_text(encoding="utf-8"))["config"]
    assert "quantization" in stored["backends"][0] and stored["backends"][0]["kind"] == "pytorch"
    config = parse_config(stored, "results_demo.json: config")
    assert [type(b).__name__ for b in config.backends[:3]] == [
        "PyTorchBackend",
        "OnnxRuntimeBackend",
        "TorchScriptBackend",
    ]
    assert "quantization" not in config.model_dump()["backends"][0]
    assert "calibration_images" not in config.backend("ort-int8-dynamic").settings()
    assert config.backend("ort-int8-static").settings() == {
        "graph_optimization": "all",
        "quantization": "static",
        "calibration_images": 32,
        "precision": "fp32",
        "provider": "cpu",
    }


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
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "best.pt").write_bytes(b"")
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
            "model.colour: unknown key (expected one of: checkpoint, class_names, factory, input_shape, input_size, inputs, mean, name, outputs, python_path, sequence_length, source, std, task, trust_checkpoint)",
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
            " (it has no effect there), got 'disabled'",
        ),
        (
            "backends:\n  - {name: pytorch, kind: pytorch}\n  - {name: ort, kind: onnx}\n",
            "backends[1].kind: expected one of 'pytorch', 'torchscript', 'onnxruntime', 'openvino',"
            " 'torch_compile', got 'onnx'",
        ),
        (
            "backends:\n  - {name: pytorch, kind: pytorch}\n  - {name: ort, kind: onnxruntime, speed: max}\n",
            "backends[1].speed: unknown key (expected one of: calibration_images, graph_optimization, kind,"
            " name, precision, provider, quantization, threads, time_load_in_latency, timeout_s,"
            " warmup_iterations)",
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
    assert (
        message == f"{path}: measurement.threads: expected a key given once, got it again (line 3, column 3)"
    )


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
        f"{path}: backends[1].threads: expected a positive integer of at most 1024, got 0",
        f"{path}: backends[2].name: missing required key",
        f"{path}: locale: expected one of 'en', 'ko', got 'fr'",
        f"{path}: measurement.timeout_s: expected a positive number of at most 86400, got -1",
        f"{path}: model.colour: unknown key (expected one of: checkpoint, class_names, factory, input_shape, input_size, inputs, mean, name, outputs, python_path, sequence_length, source, std, task, trust_checkpoint)",
        f"{path}: model.input_size: expected a positive integer of at most 8192 (a multiple of 32 for"
        " detection/segmentation), got 0",
        f"{path}: version: expected a label of letters, digits, '.', '_' or '-' that starts with a letter"
        " or digit (at most 64 characters, not 'assets' or 'index'), got '../x'",
    ]
    assert "pydantic" not in message and "http" not in message


def test_invariants_hold_when_built_in_code():
    with pytest.raises(ValueError):  # pydantic's ValidationError; only load_config words it for users
        Config(backends=[MODELS["onnxruntime"](name="ort", kind="onnxruntime")])
    with pytest.raises(ValueError):
        MODELS["pytorch"](name="pytorch", kind="pytorch", graph_optimization="basic")  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        MODELS["onnxruntime"](name="o", precision="fp16", quantization="static")


def test_every_key_is_described():
    def walk(model, prefix, shared=()):
        for name, field in model.model_fields.items():
            if name in shared:  # described once, in the keys every backend has
                continue
            assert field.description, f"{prefix}{name} has no description"
            assert "\n" not in field.description
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                walk(annotation, f"{prefix}{name}.")

    walk(Config, "")
    for kind, model in MODELS.items():
        assert model.__doc__, kind  # the docs' kind row quotes it
        walk(model, f"backends[{kind}].", BackendBase.model_fields)


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
            "model: {task: raw}\n",
            "dataset.source: expected 'folder' or 'random' for task raw (synthetic shapes are images), got "
            "'synthetic'",
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
    (tmp_path / "m.pt").write_bytes(b"")  # the files named exist: only the combination is wrong
    (tmp_path / "x").mkdir()
    path, message = config_error(tmp_path, text)
    assert message == f"{path}: {line}"


def test_folder_paths_are_relative_to_the_config_file(tmp_path):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "imgs").mkdir()
    (tmp_path / "cfg" / "a.json").write_text("{}")
    path = tmp_path / "cfg" / "c.yaml"
    path.write_text(
        "model: {task: detection}\ndataset: {source: folder, path: ../imgs, labels: coco, labels_path: a.json}\n"
    )
    config = load_config(path)
    assert config.dataset.path == str(tmp_path / "imgs") and config.dataset.labels_path == str(
        tmp_path / "cfg" / "a.json"
    )


def test_a_folder_an_oversized_file_and_non_utf8_text_are_one_line(tmp_path):
    (tmp_path / "configs").mkdir()
    for name, write, line in [
        ("configs", None, "is a folder, not a config file"),
        (
            "big.yaml",
            lambda p: p.write_text("#" * (2 << 20)),
            "expected a config file of at most 1 MiB, got a larger one",
        ),
        (
            "latin.yaml",
            lambda p: p.write_bytes("version: caf\xe9\n".encode("latin-1")),
            "cannot read: not UTF-8 text (byte 0xe9 on line 1)",
        ),
    ]:
        path = tmp_path / name
        if write is not None:
            write(path)
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        assert str(caught.value) == f"{path}: {line}"


def test_many_problems_are_capped_at_twenty_lines(tmp_path):
    path, message = config_error(tmp_path, "".join(f"k{i}: 1\n" for i in range(30)))
    lines = message.splitlines()
    assert len(lines) == 21 and lines[-1] == f"{path}: ... and 10 more problems"


def test_paths_are_checked_relative_to_the_config_file_and_report_the_resolved_path(tmp_path):
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "c.yaml"
    path.write_text("model: {checkpoint: ../w.pt}\nexport: {onnx_file: m.onnx}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).splitlines() == [
        f"{path}: export.onnx_file: expected an existing file ({tmp_path / 'cfg' / 'm.onnx'} does not exist),"
        " got 'm.onnx'",
        f"{path}: model.checkpoint: expected an existing file ({tmp_path / 'w.pt'} does not exist), got '../w.pt'",
    ]
    (tmp_path / "w.pt").write_bytes(b"")
    (tmp_path / "cfg" / "m.onnx").write_bytes(b"")
    config = load_config(path)
    assert (config.model.checkpoint, config.export.onnx_file) == (
        str(tmp_path / "w.pt"),
        str(tmp_path / "cfg" / "m.onnx"),
    )


def test_stored_configs_and_overrides_do_not_check_files(tmp_path):
    # A results document stores the config of the machine that ran it: its files need not exist here.
    stored = {"model": {"checkpoint": "/elsewhere/w.pt"}, "export": {"onnx_file": "/elsewhere/m.onnx"}}
    config = parse_config(stored, "results.json: config")
    assert with_overrides(config, "results.json", version="0.2.0").model.checkpoint == "/elsewhere/w.pt"
    path = tmp_path / "c.yaml"
    path.write_text("model: {checkpoint: missing.pt}\n")
    assert load_config(path, check_files=False).model.checkpoint == str(tmp_path / "missing.pt")


# --- Every constraint docs/config.md states is enforced -------------------------------------------
#
# Each row of the reference is read back: its "Accepts" phrase is parsed where it follows the grammar of
# numbers, choices, booleans and sections (values just inside and just outside each bound are tried);
# every other phrase, and every constraint a description states ("factory: ...", "must keep the default",
# "Unique"), has hand-written cases below. A row that is neither fails the meta-test.


def _doc_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in (ROOT / "docs" / "config.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows.append((cells[0].strip("`"), cells[1], cells[3]))
    return rows


_NUMBER = re.compile(
    r"^an? (?P<sign>positive |non-negative )?(?P<noun>integer|number)"
    r"(?: of at least (?P<ge>[-\d.e]+)(?: and less than (?P<lt2>[-\d.e]+))?"
    r"| of at most (?P<le>[-\d.e]+)"
    r"| between (?P<lo>[-\d.e]+) and (?P<hi>[-\d.e]+)(?P<excl>, exclusive)?"
    r"| greater than (?P<gt>[-\d.e]+)(?: and at most (?P<le2>[-\d.e]+))?"
    r"| less than (?P<lt>[-\d.e]+))?"
    r"(?: \([^()]*\))?$"
)


def _bounds(phrase: str):
    """Return (is_int, lo, lo_inclusive, hi, hi_inclusive) of a number phrase, or None."""
    match = _NUMBER.match(phrase)
    if match is None:
        return None
    g = match.groupdict()
    is_int = g["noun"] == "integer"
    num = int if is_int else float
    lo = hi = None
    lo_incl = hi_incl = False
    if g["sign"]:
        lo, lo_incl = 0, g["sign"] == "non-negative "
    if g["ge"]:
        lo, lo_incl = num(g["ge"]), True
    if g["gt"]:
        lo, lo_incl = num(g["gt"]), False
    if g["lo"]:
        lo, hi = num(g["lo"]), num(g["hi"])
        lo_incl = hi_incl = not g["excl"]
    for key, incl in (("le", True), ("le2", True), ("lt", False), ("lt2", False)):
        if g[key]:
            hi, hi_incl = num(g[key]), incl
    return is_int, lo, lo_incl, hi, hi_incl


def _with(key: str, value: Any) -> dict[str, Any]:
    """Return a config that sets `key` (`backends[].threads`: in a pytorch backend,
    `backends[openvino].device`: in an openvino one) to `value`."""
    parts = key.split(".")
    if parts[0].startswith("backends["):
        kind = parts[0].removeprefix("backends[").removesuffix("]") or "pytorch"
        return {"backends": [{"name": "pytorch", "kind": kind, parts[1]: value}]}
    if parts[:2] == ["model", "inputs[]"]:  # in one valid input of a raw model fed random values
        spec: dict[str, Any] = {"name": "x", "shape": ["batch", 4]}
        spec.setdefault(parts[2], {})
        if len(parts) == 4:
            spec[parts[2]] = {parts[3]: value}
        else:
            spec[parts[2]] = value
        return {"model": {"task": "raw", "inputs": [spec]}, "dataset": {"source": "random"}}
    data: dict[str, Any] = {}
    target = data
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    return data


def _problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    """Return the problem lines of loading `data` as a config file (without the file name)."""
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as exc:
        return [line.removeprefix(f"{path}: ") for line in str(exc).splitlines()]
    return []


def _auto_cases(key: str, accepts: str) -> list[tuple[Any, bool]] | None:
    """Return (value, accepted) pairs derived from an Accepts phrase, or None when it has no grammar."""
    phrase = accepts.removesuffix(" or null")
    if phrase == "a mapping":
        return [(5, False), ("text", False), ([1], False)]
    if phrase == "true or false":
        return [(True, True), (False, True), ("maybe", False), (1, False)]
    if phrase.startswith("one of "):
        choices = re.findall(r"'([^']*)'", phrase)
        return [(choice, True) for choice in choices] + [("not-a-choice", False), (5, False)]
    bounds = _bounds(phrase)
    if bounds is None:
        return None
    is_int, lo, lo_incl, hi, hi_incl = bounds
    cases: list[tuple[Any, bool]] = [("text", False), ([1], False)]
    if is_int:
        cases += [(1.5, False), (True, False)]
    else:
        cases += [(float("nan"), False), (float("inf"), False)]
    step = 1 if is_int else 1e-6
    if lo is not None:
        cases += [(lo, lo_incl), (lo - step, False), (lo + step, True)]
    if hi is not None:
        cases += [(hi, hi_incl), (hi + step, False), (hi - step, True)]
    if lo is None and hi is None:
        cases += [(10**6, True), (-(10**6), True)]
    return cases


@pytest.mark.parametrize(("key", "accepts"), [(k, a) for k, a, _ in _doc_rows() if _auto_cases(k, a)])
def test_each_documented_phrase_is_the_enforced_one(tmp_path, key, accepts):
    phrase = accepts.removesuffix(" or null")
    loc = re.sub(r"\[\w*\]", "[0]", key)
    for value, accepted in _auto_cases(key, accepts):
        lines = _problems(tmp_path, _with(key, value))
        mine = [line for line in lines if line.startswith(f"{loc}: expected ")]
        if accepted:
            assert not [line for line in mine if line.startswith(f"{loc}: expected {phrase},")], (value, mine)
        else:
            assert mine, (key, value, lines)
            assert all(line.endswith(f", got {short_repr(value)}") for line in mine), mine
            # A value out of range is told the whole documented phrase; one of the wrong type at least
            # the kind of value the key takes (a sanity limit it is nowhere near is left out).
            bounds = _bounds(phrase)
            wrong_type = bounds is not None and (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or (bounds[0] and isinstance(value, float))
            )
            if not wrong_type:
                assert f"{loc}: expected {phrase}, got {short_repr(value)}" in mine, (value, mine)


def _make(*names: str):
    """Return a setup that creates, in the config file's folder, files (`w.pt`) and folders (`imgs/`)."""

    def setup(folder: Path) -> None:
        for name in names:
            target = folder / name.rstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.mkdir() if name.endswith("/") else target.write_bytes(b"")

    return setup


_RAW = {"task": "raw", "input_shape": [1, 3, 8, 8]}
_IDS = {"name": "ids", "dtype": "int64", "shape": ["batch", 8], "values": {"kind": "integers", "high": 9}}


def _inputs(*specs, dataset=None, **model):
    """Return a raw model fed by model.inputs from generated values."""
    return {
        "model": {"task": "raw", "inputs": list(specs), **model},
        "dataset": dataset or {"source": "random"},
    }


def _values(**values):
    return _inputs({"name": "x", "shape": ["batch", 4], "values": values})


_TWO = [{"name": "pytorch", "kind": "pytorch"}, {"name": "ort", "kind": "onnxruntime"}]

# Accepts phrases without a grammar: (key, config, setup, the line expected, or None: no line for the key).
MANUAL = [
    (
        "model.inputs[].values.path",
        _values(kind="file", path="x.npy"),
        None,
        "model.inputs[0].values.path: expected an existing file (",
    ),
    ("model.inputs[].values.path", _values(kind="file", path="x.npy"), _make("x.npy"), None),
    ("model.inputs", _inputs(_IDS), None, None),
    ("model.inputs", _inputs(), None, "model.inputs: expected a list of 1 to 64 inputs"),
    (
        "model.inputs",
        _inputs(_IDS, dataset={"source": "synthetic"}, task="detection"),
        None,
        "model.inputs: expected null unless dataset.source is random",
    ),
    (
        "model.inputs",
        _inputs(_IDS, input_shape=[1, 8]),
        None,
        "model.input_shape: expected null when model.inputs is given",
    ),
    (
        "model.inputs",
        {**_inputs(_IDS), "model": {"task": "classification", "source": "factory", "factory": "a:b"}},
        None,
        "model.inputs: expected the inputs for dataset.source random",
    ),
    (
        "model.inputs[].name",
        _inputs(_IDS, _IDS),
        None,
        "model.inputs[1].name: expected a name no other input has",
    ),
    (
        "model.inputs[].name",
        _inputs({**_IDS, "name": "1x"}),
        None,
        "model.inputs[0].name: expected a name of at most 128",
    ),
    ("model.inputs[].name", _inputs({**_IDS, "name": "input_ids:0"}), None, None),
    (
        "model.inputs[].shape",
        _inputs({**_IDS, "shape": ["batch", "batch"]}),
        None,
        "model.inputs[0].shape: expected at most one 'batch' axis",
    ),
    (
        "model.inputs[].shape",
        _inputs({**_IDS, "shape": ["b", 8]}),
        None,
        "model.inputs[0].shape[0]: expected a size (an integer from 0 to 65536) or 'batch', got 'b'",
    ),
    (
        "model.inputs[].shape",
        _inputs({**_IDS, "shape": [1] * 9}),
        None,
        "model.inputs[0].shape: expected a list of at most 8 sizes",
    ),
    ("model.inputs[].shape", _inputs({**_IDS, "shape": []}), None, None),
    (
        "measurement.batch_sizes",
        {"measurement": {"batch_sizes": [1, 1]}},
        None,
        "measurement.batch_sizes: expected a list of 1 to 16 different",
    ),
    (
        "measurement.batch_sizes",
        {"measurement": {"batch_sizes": []}},
        None,
        "measurement.batch_sizes: expected a list of 1 to 16 different",
    ),
    (
        "measurement.batch_sizes",
        {"measurement": {"batch_sizes": [0]}},
        None,
        "measurement.batch_sizes[0]: expected a positive integer",
    ),
    (
        "measurement.batch_sizes",
        {**_inputs({**_IDS, "shape": [8]}), "measurement": {"batch_sizes": [1, 4]}},
        None,
        "measurement.batch_sizes: expected [1]: no input of model.inputs has a 'batch' axis",
    ),
    ("measurement.batch_sizes", {"measurement": {"batch_sizes": [1, 8, 32]}}, None, None),
    ("version", {"version": "../x"}, None, "version: expected a label of letters"),
    ("version", {"version": "-x"}, None, "version: expected a label of letters"),
    ("version", {"version": "v" * 65}, None, "version: expected a label of letters"),
    ("version", {"version": "INDEX"}, None, "version: expected a label of letters"),
    ("version", {"version": 1.5}, None, "version: expected a label of letters"),
    ("version", {"version": "v" * 64}, None, None),
    ("version", {"version": "A_b-c.1"}, None, None),
    ("title", {"title": "t" * 201}, None, "title: expected a string of at most 200 characters"),
    ("title", {"title": ["a"]}, None, "title: expected a string of at most 200 characters"),
    ("title", {"title": "t" * 200}, None, None),
    (
        "reference",
        {"reference": "ort", "backends": _TWO},
        None,
        "reference: expected the name of a backend of kind 'pytorch'",
    ),
    (
        "reference",
        {
            "reference": "ts",
            "backends": [{"name": "pytorch", "kind": "pytorch"}, {"name": "ts", "kind": "torchscript"}],
        },
        None,
        "reference: expected the name of a backend of kind 'pytorch'",
    ),
    ("reference", {"reference": "torch", "backends": [{"name": "torch", "kind": "pytorch"}]}, None, None),
    (
        "model.name",
        {"model": {"name": ""}},
        None,
        "model.name: expected a non-empty string of at most 128 characters",
    ),
    (
        "model.name",
        {"model": {"name": "n" * 129}},
        None,
        "model.name: expected a non-empty string of at most 128 characters",
    ),
    ("model.name", {"model": {"name": "n" * 128}}, None, None),
    (
        "model.checkpoint",
        {"model": {"checkpoint": "w.pt"}},
        None,
        "model.checkpoint: expected an existing file",
    ),
    (
        "model.checkpoint",
        {"model": {"checkpoint": "w"}},
        _make("w/"),
        "model.checkpoint: expected an existing file",
    ),
    (
        "model.checkpoint",
        {"model": {"checkpoint": ""}},
        None,
        "model.checkpoint: expected an existing file, got ''",
    ),
    ("model.checkpoint", {"model": {"checkpoint": "w.pt"}}, _make("w.pt"), None),
    (
        "model.factory",
        {"model": {"source": "factory", "factory": "nocolon"}},
        None,
        "model.factory: expected 'package.module:function', got",
    ),
    (
        "model.factory",
        {"model": {"source": "factory", "factory": "1a:b"}},
        None,
        "model.factory: expected 'package.module:function', got",
    ),
    ("model.factory", {"model": {"source": "factory", "factory": "pkg.mod:build"}}, None, None),
    (
        "model.python_path",
        {"model": {"source": "factory", "factory": "a:b", "python_path": ["src"]}},
        None,
        "model.python_path[0]: expected an existing folder",
    ),
    (
        "model.python_path",
        {"model": {"source": "factory", "factory": "a:b", "python_path": ["f.txt"]}},
        _make("f.txt"),
        "model.python_path[0]: expected an existing folder",
    ),
    (
        "model.python_path",
        {"model": {"source": "factory", "factory": "a:b", "python_path": ["src"] * 65}},
        _make("src/"),
        "model.python_path: expected a list of at most 64 existing folders",
    ),
    (
        "model.python_path",
        {"model": {"source": "factory", "factory": "a:b", "python_path": ["src", "."]}},
        _make("src/"),
        None,
    ),
    (
        "model.input_shape",
        {"model": {**_RAW, "input_shape": []}},
        None,
        "model.input_shape: expected a list of 1 to 8 positive integers of at most 65536",
    ),
    (
        "model.input_shape",
        {"model": {**_RAW, "input_shape": [1] * 9}},
        None,
        "model.input_shape: expected a list of 1 to 8 positive integers of at most 65536",
    ),
    (
        "model.input_shape",
        {"model": {**_RAW, "input_shape": [0]}},
        None,
        "model.input_shape[0]: expected a positive integer of at most 65536, got 0",
    ),
    (
        "model.input_shape",
        {"model": {**_RAW, "input_shape": [65537]}},
        None,
        "model.input_shape[0]: expected a positive integer of at most 65536, got 65537",
    ),
    (
        "model.input_shape",
        {"model": {**_RAW, "input_shape": [1, 2, 3, 4, 5, 6, 7, 65536]}, "dataset": {"source": "random"}},
        None,
        None,
    ),
    ("model.class_names", {"model": {"class_names": [""]}}, None, "model.class_names[0]: expected"),
    (
        "model.class_names",
        {"model": {"class_names": ["c"] * 10001}},
        None,
        "model.class_names: expected a list of at most 10000 non-empty class names",
    ),
    ("model.class_names", {"model": {"class_names": ["a", "b"]}}, None, None),
    ("model.outputs", {"model": {"outputs": {"logits": "logits", "last_hidden_state": "shown"}}}, None, None),
    (
        "model.outputs",
        {"model": {"outputs": {"logits": "scores"}}},
        None,
        "model.outputs.logits: expected a role: logits, sigmoid_logits, boxes, detections, prototypes, judged, shown, got 'scores'",
    ),
    (
        "model.outputs",
        {"model": {"outputs": ["logits"]}},
        None,
        "model.outputs: expected a mapping of output names to roles",
    ),
    (
        "model.mean",
        {"model": {"task": "classification", "mean": [1, 2]}},
        None,
        "model.mean: expected a list of 3 numbers",
    ),
    (
        "model.mean",
        {"model": {"task": "classification", "mean": [1, 2, 3, 4]}},
        None,
        "model.mean: expected a list of 3 numbers",
    ),
    (
        "model.mean",
        {"model": {"task": "classification", "mean": ["a", 1, 2]}},
        None,
        "model.mean[0]: expected a number",
    ),
    ("model.mean", {"model": {"task": "classification", "mean": [0, 0.5, 1]}}, None, None),
    (
        "model.std",
        {"model": {"task": "classification", "std": [0, 1, 1]}},
        None,
        "model.std[0]: expected a positive number",
    ),
    (
        "model.std",
        {"model": {"task": "classification", "std": [1, 1]}},
        None,
        "model.std: expected a list of 3 positive numbers",
    ),
    ("model.std", {"model": {"task": "classification", "std": [1, 1, 1]}}, None, None),
    (
        "dataset.path",
        {"model": {"task": "detection"}, "dataset": {"source": "folder", "path": "imgs"}},
        None,
        "dataset.path: expected an existing folder",
    ),
    (
        "dataset.path",
        {"model": {"task": "detection"}, "dataset": {"source": "folder", "path": "a.png"}},
        _make("a.png"),
        "dataset.path: expected an existing folder",
    ),
    (
        "dataset.path",
        {"model": {"task": "detection"}, "dataset": {"source": "folder", "path": "imgs"}},
        _make("imgs/"),
        None,
    ),
    (
        "dataset.labels_path",
        {
            "model": {"task": "detection"},
            "dataset": {"source": "folder", "path": "imgs", "labels": "coco", "labels_path": "a.json"},
        },
        _make("imgs/"),
        "dataset.labels_path: expected an existing file",
    ),
    (
        "dataset.labels_path",
        {
            "model": {"task": "detection"},
            "dataset": {"source": "folder", "path": "imgs", "labels": "coco", "labels_path": "a"},
        },
        _make("imgs/", "a/"),
        "dataset.labels_path: expected an existing file",
    ),
    (
        "dataset.labels_path",
        {
            "model": {"task": "detection"},
            "dataset": {"source": "folder", "path": "imgs", "labels": "yolo", "labels_path": "l.txt"},
        },
        _make("imgs/", "l.txt"),
        "dataset.labels_path: expected an existing folder",
    ),
    (
        "dataset.labels_path",
        {"model": {"task": "detection"}, "dataset": {"source": "folder", "path": "imgs", "labels": "coco"}},
        _make("imgs/"),
        "dataset.labels_path: expected the COCO annotations file",
    ),
    (
        "dataset.labels_path",
        {
            "model": {"task": "detection"},
            "dataset": {"source": "folder", "path": "imgs", "labels": "coco", "labels_path": "a.json"},
        },
        _make("imgs/", "a.json"),
        None,
    ),
    (
        "dataset.labels_path",
        {"model": {"task": "detection"}, "dataset": {"source": "folder", "path": "imgs", "labels": "coco"}},
        _make("imgs/annotations.json"),
        None,
    ),
    (
        "dataset.labels_path",
        {
            "model": {"task": "detection"},
            "dataset": {"source": "folder", "path": "imgs", "labels": "yolo", "labels_path": "labels"},
        },
        _make("imgs/", "labels/"),
        None,
    ),
    (
        "export.onnx_file",
        {"export": {"onnx_file": "m.onnx"}},
        None,
        "export.onnx_file: expected an existing file",
    ),
    (
        "export.onnx_file",
        {"export": {"onnx_file": "m"}},
        _make("m/"),
        "export.onnx_file: expected an existing file",
    ),
    ("export.onnx_file", {"export": {"onnx_file": "m.onnx"}}, _make("m.onnx"), None),
    ("backends", {"backends": []}, None, "backends: expected a non-empty list of at most 64 backends"),
    (
        "backends",
        {"backends": [{"name": f"b{i}", "kind": "pytorch"} for i in range(65)], "reference": "b0"},
        None,
        "backends: expected a non-empty list of at most 64 backends",
    ),
    ("backends", {"backends": [5]}, None, "backends[0]: expected a mapping, got 5"),
    (
        "backends",
        {"backends": [{"name": f"b{i}", "kind": "pytorch"} for i in range(64)], "reference": "b0"},
        None,
        None,
    ),
    (
        "backends[].name",
        {"backends": [{"name": "a b", "kind": "pytorch"}]},
        None,
        "backends[0].name: expected a name of at most 64 letters",
    ),
    (
        "backends[].name",
        {"backends": [{"name": "n" * 65, "kind": "pytorch"}]},
        None,
        "backends[0].name: expected a name of at most 64 letters",
    ),
    (
        "backends[].name",
        {"backends": [{"name": "", "kind": "pytorch"}]},
        None,
        "backends[0].name: expected a name of at most 64 letters",
    ),
    (
        "backends[].name",
        {"backends": [{"name": "n" * 64, "kind": "pytorch"}], "reference": "n" * 64},
        None,
        None,
    ),
    (
        "measurement.max_iterations",
        {"measurement": {"min_iterations": 100, "max_iterations": 99}},
        None,
        "measurement.max_iterations: expected a positive integer of at least min_iterations (100), got 99",
    ),
    (
        "measurement.max_iterations",
        {"measurement": {"max_iterations": 0}},
        None,
        "measurement.max_iterations: expected a positive integer of at least min_iterations and at most 1000000, got 0",
    ),
    (
        "measurement.max_iterations",
        {"measurement": {"max_iterations": 1000001}},
        None,
        "measurement.max_iterations: expected a positive integer of at least min_iterations and at most 1000000",
    ),
    (
        "measurement.max_iterations",
        {"measurement": {"min_iterations": 100, "max_iterations": 100}},
        None,
        None,
    ),
    ("measurement.max_iterations", {"measurement": {"max_iterations": 1000000}}, None, None),
    (
        "site.dir",
        {"site": {"dir": ""}},
        None,
        "site.dir: expected a folder path (a folder, or nothing yet), got ''",
    ),
    ("site.dir", {"site": {"dir": "not-yet"}}, None, None),
]

# Constraints stated in descriptions: (key, config, setup, the line expected).
DESCRIBED = [
    (
        "model.inputs[].values.low",
        _values(kind="normal", low=1.0),
        None,
        "model.inputs[0].values.low: expected no low for values of kind 'normal'",
    ),
    (
        "model.inputs[].values.low",
        _values(kind="integers", low=0.5),
        None,
        "model.inputs[0].values.low: expected whole numbers",
    ),
    ("model.inputs[].values.low", _values(kind="uniform", low=-1.0), None, None),
    (
        "model.inputs[].values.high",
        _values(kind="zeros", high=1.0),
        None,
        "model.inputs[0].values.high: expected no high for values of kind 'zeros'",
    ),
    (
        "model.inputs[].values.high",
        _values(kind="integers", low=5, high=5),
        None,
        "model.inputs[0].values.high: expected a number above low (5)",
    ),
    (
        "model.inputs[].values.high",
        _values(kind="uniform", high=0.0),
        None,
        "model.inputs[0].values.high: expected a number above low (0)",
    ),
    ("model.inputs[].values.high", _values(kind="integers", high=7), None, None),
    (
        "model.inputs[].values.mean",
        _values(kind="ones", mean=1.0),
        None,
        "model.inputs[0].values.mean: expected no mean",
    ),
    ("model.inputs[].values.mean", _values(kind="normal", mean=3.0), None, None),
    (
        "model.inputs[].values.std",
        _values(kind="uniform", std=1.0),
        None,
        "model.inputs[0].values.std: expected no std",
    ),
    ("model.inputs[].values.std", _values(kind="normal", std=0.1), None, None),
    (
        "model.inputs[].values.value",
        _values(kind="normal", value=1.0),
        None,
        "model.inputs[0].values.value: expected no value",
    ),
    (
        "model.inputs[].values.value",
        _values(kind="constant"),
        None,
        "model.inputs[0].values.value: expected the value for kind constant",
    ),
    ("model.inputs[].values.value", _values(kind="constant", value=16000), None, None),
    (
        "model.inputs[].values.path",
        _values(kind="normal", path="x.npy"),
        _make("x.npy"),
        "model.inputs[0].values.path: expected no path",
    ),
    (
        "model.inputs[].values.path",
        _values(kind="file"),
        None,
        "model.inputs[0].values.path: expected a .npy or .npz file for kind file",
    ),
    (
        "dataset.labels_path",
        {
            **_inputs(_IDS, task="classification", source="factory", factory="a:b"),
            "dataset": {"source": "random", "labels": "file"},
        },
        None,
        "dataset.labels_path: expected the .npy of labels for labels: file",
    ),
    (
        "model.checkpoint",
        {"model": {"source": "torchscript"}, "export": {"exporter": "legacy"}},
        None,
        "model.checkpoint: expected the torchscript model file",
    ),
    (
        "model.checkpoint",
        {"model": {"source": "ultralytics"}},
        None,
        "model.checkpoint: expected the ultralytics model file",
    ),
    (
        "model.checkpoint",
        {"model": {"checkpoint": "w.pt"}},
        _make("w.pt"),
        None,
    ),  # beside the config, not in the working folder
    (
        "model.factory",
        {"model": {"factory": "a:b"}},
        None,
        "model.factory: expected null unless model.source is factory",
    ),
    (
        "model.factory",
        {"model": {"source": "factory"}},
        None,
        "model.factory: expected 'package.module:function' for source factory",
    ),
    (
        "model.python_path",
        {"model": {"python_path": ["src"]}},
        _make("src/"),
        "model.python_path: expected [] unless model.source is factory",
    ),
    (
        "model.input_shape",
        {"model": {"input_shape": [1, 3, 8, 8]}},
        None,
        "model.input_shape: expected null unless model.task is raw",
    ),
    (
        "model.mean",
        {"model": {"mean": [0, 0, 0]}},
        None,
        "model.mean: expected the default unless model.task is classification",
    ),
    (
        "model.std",
        {"model": {"std": [1, 1, 1]}},
        None,
        "model.std: expected the default unless model.task is classification",
    ),
    (
        "dataset.source",
        {"model": {"task": "raw"}},
        None,
        "dataset.source: expected 'folder' or 'random' for task raw",
    ),
    (
        "dataset.source",
        {"dataset": {"source": "random"}},
        None,
        "dataset.source: expected 'synthetic' or 'folder' for task segmentation",
    ),
    (
        "dataset.path",
        {"dataset": {"path": "imgs"}},
        _make("imgs/"),
        "dataset.path: expected null unless dataset.source is folder",
    ),
    (
        "dataset.path",
        {"dataset": {"source": "folder"}},
        None,
        "dataset.path: expected the image folder for source folder",
    ),
    (
        "dataset.path",
        {"model": {"task": "detection"}, "dataset": {"source": "folder", "path": "imgs"}},
        _make("imgs/"),
        None,
    ),
    (
        "dataset.labels",
        {"dataset": {"labels": "coco"}},
        None,
        "dataset.labels: expected 'none' unless dataset.source is folder",
    ),
    (
        "dataset.labels",
        {"model": {"task": "classification"}, "dataset": {"source": "folder", "path": "i", "labels": "coco"}},
        _make("i/"),
        "dataset.labels: expected labels that fit task classification",
    ),
    (
        "dataset.labels_path",
        {"model": {"task": "detection"}, "dataset": {"source": "folder", "path": "i", "labels_path": "l"}},
        _make("i/", "l/"),
        "dataset.labels_path: expected null unless dataset.labels is coco, yolo, file or masks",
    ),
    ("export.onnx_file", {"export": {"onnx_file": "m.onnx"}}, _make("m.onnx"), None),  # beside the config
    (
        "backends[].name",
        {"backends": [{"name": "pytorch", "kind": "pytorch"}, {"name": "pytorch", "kind": "onnxruntime"}]},
        None,
        "backends[1].name: expected a name no other backend has",
    ),
    (
        "backends[onnxruntime].graph_optimization",
        {"backends": [{"name": "pytorch", "kind": "pytorch", "graph_optimization": "basic"}]},
        None,
        "backends[0].graph_optimization: expected no graph_optimization",
    ),
    (
        "backends[onnxruntime].graph_optimization",
        {
            "backends": [
                {"name": "pytorch", "kind": "pytorch"},
                {"name": "t", "kind": "torchscript", "graph_optimization": "basic"},
            ]
        },
        None,
        "backends[1].graph_optimization: expected no graph_optimization",
    ),
    (
        "backends[torchscript].freeze",
        {"backends": [_TWO[0], {**_TWO[1], "freeze": False}]},
        None,
        "backends[1].freeze: expected no freeze on a backend of kind 'onnxruntime'",
    ),
    (
        "backends[onnxruntime].quantization",
        {"backends": [{**_TWO[0], "quantization": "static"}]},
        None,
        "backends[0].quantization: expected no quantization on a backend of kind 'pytorch'",
    ),
    (
        "backends[onnxruntime].calibration_images",
        {"backends": [_TWO[0], {**_TWO[1], "calibration_images": 8}]},
        None,
        "backends[1].calibration_images: expected no calibration_images without quantization: static",
    ),
    (
        "backends[onnxruntime].calibration_images",
        {"backends": [{**_TWO[0], "calibration_images": 8}]},
        None,
        "backends[0].calibration_images: expected no calibration_images on a backend of kind 'pytorch'",
    ),
    (
        "backends[onnxruntime].calibration_images",
        {"backends": [_TWO[0], {**_TWO[1], "quantization": "static", "calibration_images": 8}]},
        None,
        None,
    ),
    (
        "backends[pytorch].letterbox",
        {"backends": [_TWO[0], {**_TWO[1], "letterbox": "rect"}]},
        None,
        "backends[1].letterbox: expected no letterbox on a backend of kind 'onnxruntime'",
    ),
    (
        "backends[pytorch].letterbox",
        {"model": _RAW, "dataset": {"source": "random"}, "backends": [{**_TWO[0], "letterbox": "rect"}]},
        None,
        "backends[0].letterbox: expected 'square'",
    ),
    ("backends[pytorch].letterbox", {"backends": [{**_TWO[0], "letterbox": "rect"}]}, None, None),
    # Each kind's own keys (measure/worker/backends/<kind>_config.py): on that kind only.
    (
        "backends[onnxruntime].precision",
        {"backends": [_TWO[0], {**_TWO[1], "precision": "fp16"}]},
        None,
        None,
    ),
    (
        "backends[onnxruntime].precision",
        {"backends": [{**_TWO[0], "precision": "fp16"}]},
        None,
        "backends[0].precision: expected no precision on a backend of kind 'pytorch'",
    ),
    (
        "backends[onnxruntime].precision",
        {"backends": [_TWO[0], {**_TWO[1], "precision": "fp16", "quantization": "dynamic"}]},
        None,
        "backends[1].precision: expected 'fp32' with INT8 quantization",
    ),
    (
        "backends[onnxruntime].provider",
        {"backends": [_TWO[0], {**_TWO[1], "provider": "tensorrt"}]},
        None,
        None,
    ),
    (
        "backends[onnxruntime].provider",
        {"backends": [_TWO[0], {"name": "ov", "kind": "openvino", "provider": "cuda"}]},
        None,
        "backends[1].provider: expected no provider on a backend of kind 'openvino'",
    ),
    ("backends[pytorch].device", {"backends": [{**_TWO[0], "device": "cuda"}]}, None, None),
    (
        "backends[openvino].device",
        {"backends": [_TWO[0], {"name": "ov", "kind": "openvino", "device": "gpu"}]},
        None,
        None,
    ),
    (
        "backends[pytorch].device",
        {"backends": [_TWO[0], {**_TWO[1], "device": "cuda"}]},
        None,
        "backends[1].device: expected no device on a backend of kind 'onnxruntime'",
    ),
    (
        "backends[pytorch].device",
        {"backends": [{**_TWO[0], "device": "gpu"}]},
        None,
        "backends[0].device: expected one of 'cpu', 'cuda', got 'gpu'",
    ),
    (
        "backends[openvino].device",
        {"backends": [_TWO[0], {"name": "ov", "kind": "openvino", "device": "cuda"}]},
        None,
        "backends[1].device: expected one of 'cpu', 'gpu', got 'cuda'",
    ),
    (
        "backends[torch_compile].compile_mode",
        {"backends": [_TWO[0], {"name": "tc", "kind": "torch_compile", "compile_mode": "max-autotune"}]},
        None,
        None,
    ),
    (
        "backends[torch_compile].compile_mode",
        {"backends": [{**_TWO[0], "compile_mode": "max-autotune"}]},
        None,
        "backends[0].compile_mode: expected no compile_mode on a backend of kind 'pytorch'",
    ),
    (
        "backends[onnxruntime].graph_optimization",
        {"backends": [_TWO[0], {"name": "ov", "kind": "openvino", "graph_optimization": "basic"}]},
        None,
        "backends[1].graph_optimization: expected no graph_optimization on a backend of kind 'openvino'",
    ),
    (
        "site.dir",
        {"site": {"dir": "s.txt"}},
        lambda folder: (folder.parent / "s.txt").write_text("x"),
        "site.dir: expected a folder or a path not taken yet (it is a file)",
    ),
    (
        "site.dir",
        {"site": {"dir": "s.txt"}},
        _make("s.txt"),
        None,
    ),  # beside the config file only: not the site
]

_DESCRIBES_A_CONSTRAINT = re.compile(
    r"^[a-z/]+(?:, [a-z/ ]+)?: |must keep|[Uu]nique|relative to the (?:config file|working directory)"
    r"|\((?:detection/segmentation|raw)\)"
)


def test_every_documented_row_is_checked():
    rows = _doc_rows()
    assert len(rows) >= 70
    manual, described = {case[0] for case in MANUAL}, {case[0] for case in DESCRIBED}
    unchecked = [key for key, accepts, _ in rows if _auto_cases(key, accepts) is None and key not in manual]
    assert not unchecked
    stated = [key for key, _, description in rows if _DESCRIBES_A_CONSTRAINT.search(description)]
    assert len(stated) >= 15 and not set(stated) - described, sorted(set(stated) - described)
    assert manual | described <= {key for key, _, _ in rows}  # no case for a key the docs do not list


@pytest.mark.parametrize(
    ("key", "data", "setup", "line"), MANUAL + DESCRIBED, ids=[c[0] for c in MANUAL + DESCRIBED]
)
def test_each_documented_constraint_is_enforced(tmp_path, monkeypatch, key, data, setup, line):
    # The config lives in cfg/ and the working folder is its parent: a relative path proves which one
    # it is resolved against (files and folders against the config file, site.dir the working folder).
    folder = tmp_path / "cfg"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    if setup is not None:
        setup(folder)
    lines = _problems(folder, data)
    loc = re.sub(r"\[\w*\]", "[", key)
    if line is None:
        assert not [found for found in lines if found.startswith(loc)], lines
    else:
        assert any(found.startswith(line) for found in lines), lines


def test_each_kinds_choices_are_the_ones_its_runtime_maps():
    # The config model declares a kind's choices; its runtime module maps each to the runtime's own name.
    import importlib.util
    import typing

    from reportgen.measure.worker.backends import availability
    from reportgen.measure.worker.backends.onnxruntime import OPTIMIZATION_LEVELS

    def choices(kind: str, key: str) -> set[str]:
        return set(typing.get_args(MODELS[kind].model_fields[key].annotation))

    assert choices("onnxruntime", "provider") == set(availability.ORT_PROVIDERS)
    assert choices("onnxruntime", "graph_optimization") == set(OPTIMIZATION_LEVELS)
    assert choices("openvino", "device") == set(availability.OPENVINO_DEVICES)
    assert {kind for kind, model in MODELS.items() if model.from_source} == {"pytorch", "torch_compile"}
    for kind in MODELS:  # the worker finds each kind's runtime by its name
        assert importlib.util.find_spec(f"reportgen.measure.worker.backends.{kind}") is not None, kind
