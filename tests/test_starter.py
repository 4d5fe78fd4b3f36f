"""reportgen init / validate / schema."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reportgen.config.paths import FILE, named_paths
from reportgen.config.schema import load_config, parse_config
from reportgen.config.starter import SOURCES, TASKS, starter_config
from reportgen.config.words import key_path
from reportgen.errors import ConfigError


def reportgen(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "reportgen", *args], capture_output=True, text=True, cwd=cwd)


def create_named_files(config_path: Path) -> list[str]:
    """Create the (empty) files and folders a config names, as a user would; return the key paths of
    those that were missing."""
    made = []
    for loc, value, kind in named_paths(yaml.safe_load(config_path.read_text())):
        target = config_path.parent / value
        if target.exists():
            continue
        if kind == FILE:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"")
        else:
            target.mkdir(parents=True, exist_ok=True)
        made.append(key_path(loc))
    return made


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("task", TASKS)
def test_every_starter_config_is_valid(tmp_path, source, task):
    path = tmp_path / "c.yaml"
    path.write_text(starter_config(source, task))
    # As written, only the files it names are missing: one line each, naming the key.
    if source != "builtin":
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        lines = str(caught.value).splitlines()
        assert all(" existing " in line and "does not exist" in line for line in lines), lines
        named = create_named_files(path)
        assert sorted(line.split(": ")[1] for line in lines) == sorted(named)
    config = load_config(path)
    assert config.model.source == source
    assert config.model.task == (task if source != "builtin" else "segmentation")


def test_init_writes_validate_accepts_and_init_refuses_to_overwrite(tmp_path):
    done = reportgen(
        "init", "--source", "torchscript", "--task", "classification", "-o", "my.yaml", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "my.yaml").read_text()
    assert "source: torchscript" in text and "exporter: legacy" in text and "labels: folders" in text
    unedited = reportgen("validate", "my.yaml", cwd=tmp_path)
    assert unedited.returncode == 2 and unedited.stderr.splitlines() == [
        "error: my.yaml: dataset.path: expected an existing folder (it does not exist), got 'images'",
        "my.yaml: model.checkpoint: expected an existing file (it does not exist), got 'model.pt'",
    ]
    create_named_files(tmp_path / "my.yaml")
    checked = reportgen("validate", "my.yaml", cwd=tmp_path)
    assert checked.returncode == 0 and checked.stdout.startswith(
        "my.yaml: ok (torchscript model, classification"
    )
    again = reportgen("init", "-o", "my.yaml", cwd=tmp_path)
    assert (
        again.returncode == 1
        and again.stderr.strip() == "error: my.yaml: already exists; pass --force to overwrite it"
    )


def test_validate_reports_errors_with_exit_2(tmp_path):
    (tmp_path / "bad.yaml").write_text("model: {source: factory}\n")
    done = reportgen("validate", "bad.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip()
        == "error: bad.yaml: model.factory: expected 'package.module:function' for source factory, got None"
    )


def test_schema_is_the_json_schema_of_the_config():
    done = reportgen("schema")
    schema = json.loads(done.stdout)
    assert done.returncode == 0 and schema["title"] == "Config"
    assert {"model", "dataset", "backends", "measurement"} <= set(schema["properties"])
    parse_config({}, "defaults")  # the schema's defaults are a valid config


@pytest.mark.parametrize("source", [s for s in SOURCES if s not in ("builtin", "huggingface")])
def test_a_raw_starter_declares_its_inputs_and_batch_sizes(source):
    config = parse_config(yaml.safe_load(starter_config(source, "raw")), "starter.yaml")
    (spec,) = config.model.inputs
    assert (spec.name, spec.dtype, spec.shape, spec.values.kind) == (
        "input",
        "float32",
        ["batch", 3, 224, 224],
        "normal",
    )
    assert config.dataset.source == "random" and config.measurement.batch_sizes == [1]
    # The commented second input is a valid entry once uncommented.
    text = starter_config(source, "raw").replace("    # - name: attention_mask", "    - name: attention_mask")
    text = text.replace("    #   ", "      ")
    assert [i.name for i in parse_config(yaml.safe_load(text), "s.yaml").model.inputs] == [
        "input",
        "attention_mask",
    ]


def test_a_huggingface_starter_leaves_the_inputs_to_the_model_folder():
    """The folder's forward(), tokenizer and image processor say the inputs (measure/hffolder.py)."""
    text = parse_config(yaml.safe_load(starter_config("huggingface", "classification")), "s.yaml")
    assert text.model.inputs is None and text.dataset.source == "text" and text.dataset.path == "lines.txt"
    raw = parse_config(yaml.safe_load(starter_config("huggingface", "raw")), "s.yaml")
    assert raw.model.inputs is None and raw.dataset.source == "random"
    for task in ("set_detection", "semantic_segmentation"):
        config = parse_config(yaml.safe_load(starter_config("huggingface", task)), "s.yaml")
        # input_size, mean and std stay at their defaults: the folder's preprocessor_config.json says them.
        assert config.model.task == task and config.model.input_size == 160
    masks = parse_config(yaml.safe_load(starter_config("factory", "semantic_segmentation")), "s.yaml")
    assert masks.dataset.labels == "masks" and masks.model.input_size == 512


def test_init_offers_every_source_and_task():
    shown = reportgen("init", "--help").stdout
    assert all(name in shown for name in (*SOURCES, *TASKS))
