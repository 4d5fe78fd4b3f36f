"""A battery of malformed configs through the real CLI (in-process): each is refused with exit status 2
and one line on stderr naming the file and the key, no traceback; `build` refuses before measuring and
leaves the site folder as it was.

Each case is (id, config text, the key path the line must name, setup). `setup` creates the files and
folders a case needs beside the config; the key is None where the problem is the file itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

NAME = "bad.yaml"
OK_BACKENDS = "backends:\n  - {name: pytorch, kind: pytorch}\n  - {name: ort, kind: onnxruntime}\n"


def _file(name: str, data: bytes = b"") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)

    return make


def _folder(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).mkdir(parents=True, exist_ok=True)


def _both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        for step in steps:
            step(folder)

    return make


def _billion_laughs(at: str = "") -> str:
    text = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text + at


# (id, text, key, setup)
CASES: list[tuple[str, str | bytes, str | None, Callable[[Path], None] | None]] = [
    # --- the file itself -----------------------------------------------------------------------
    ("not-utf8", "model: {name: caf\xe9}\n".encode("latin-1"), None, None),
    ("utf16", "version: x\n".encode("utf-16"), None, None),
    ("too-large", "# " + "x" * (1 << 20) + "\n", None, None),
    ("top-level-list", "- pytorch\n- onnxruntime\n", None, None),
    ("top-level-scalar", "just a sentence\n", None, None),
    ("nul-character", "version: a\x00b\n", None, None),
    # --- YAML syntax: the line and column are named ---------------------------------------------
    ("unclosed-bracket", "model:\n  name: [unclosed\n", None, None),
    ("bad-indentation", "model:\n  name: x\n source: builtin\n", None, None),
    ("tab-indentation", "model:\n\tname: x\n", None, None),
    ("unterminated-quote", 'title: "no end\n', None, None),
    ("two-documents", "version: a\n---\nversion: b\n", None, None),
    ("undefined-alias", "model: {name: *nowhere}\n", None, None),
    # --- YAML the loader refuses: duplicate keys, bombs, tags, unreadable scalars ---------------
    ("duplicate-top-key", "version: a\nversion: b\n", "version", None),
    ("duplicate-nested-key", "measurement:\n  threads: 2\n  threads: 4\n", "measurement.threads", None),
    (
        "duplicate-spelled-differently",
        "model: {trust_checkpoint: yes, trust_checkpoint: true}\n",
        "model.trust_checkpoint",
        None,
    ),
    ("duplicate-in-backend", "backends:\n  - {name: a, kind: pytorch, name: b}\n", "backends[0].name", None),
    ("deep-flow-nesting", "model: {name: " + "[" * 5000 + "]" * 5000 + "}\n", "model.name", None),
    (
        "deep-block-nesting",
        "model:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 40)) + "  " * 40 + "x\n",
        "model.k1",
        None,
    ),
    ("billion-laughs", _billion_laughs(), "f", None),
    ("billion-laughs-in-a-key", _billion_laughs("model: {name: *i}\n"), "f", None),
    ("alias-cycle", "model: &m {name: *m}\n", "model.name", None),
    ("unhashable-key", "model: {[1, 2]: x}\n", "model", None),
    ("python-tag", "model: !!python/object/apply:os.system [echo hi]\n", "model", None),
    ("local-tag", "model: {name: !secret x}\n", "model.name", None),
    ("bad-explicit-float", "parity: {atol: !!float abc}\n", "parity.atol", None),
    ("impossible-date", "version: 2024-13-45\n", "version", None),
    ("5000-digit-integer", "measurement: {threads: " + "9" * 5000 + "}\n", "measurement.threads", None),
    ("bad-merge", "measurement: {<<: 5}\n", "measurement", None),
    # --- unknown and missing keys ---------------------------------------------------------------
    ("unknown-top-key", "colour: red\n", "colour", None),
    ("unknown-model-key", "model: {colour: red}\n", "model.colour", None),
    (
        "unknown-backend-key",
        "backends:\n  - {name: pytorch, kind: pytorch, speed: max}\n",
        "backends[0].speed",
        None,
    ),
    ("markup-in-unknown-key", '"[red]x[/red]": 1\n', "'[red]x[/red]'", None),
    ("backend-without-name", "backends:\n  - {kind: pytorch}\n", "backends[0].name", None),
    ("backend-without-kind", "backends:\n  - {name: pytorch}\n", "backends[0].kind", None),
    # --- wrong types ----------------------------------------------------------------------------
    ("threads-a-word", "measurement: {threads: two}\n", "measurement.threads", None),
    ("threads-a-bool", "measurement: {threads: true}\n", "measurement.threads", None),
    ("opset-a-float", "export: {opset: 17.5}\n", "export.opset", None),
    ("version-a-number", "version: 1.5\n", "version", None),
    ("locale-unknown", "locale: fr\n", "locale", None),
    ("model-a-string", "model: resnet\n", "model", None),
    ("backends-a-mapping", "backends: {name: pytorch, kind: pytorch}\n", "backends", None),
    ("backends-empty", "backends: []\n", "backends", None),
    ("backend-a-scalar", "backends:\n  - {name: pytorch, kind: pytorch}\n  - 5\n", "backends[1]", None),
    (
        "mean-two-numbers",
        "model: {task: classification, mean: [0.5, 0.5]}\ndataset: {source: random}\n",
        "model.mean",
        None,
    ),
    ("title-a-list", "title: [a, b]\n", "title", None),
    (
        "input-shape-words",
        "model: {task: raw, input_shape: [one, 3]}\ndataset: {source: random}\n",
        "model.input_shape[0]",
        None,
    ),
    ("class-name-empty", 'model: {class_names: [circle, ""]}\n', "model.class_names[1]", None),
    # --- out of range: the range is in the line -------------------------------------------------
    ("threads-zero", "measurement: {threads: 0}\n", "measurement.threads", None),
    (
        "threads-huge",
        "measurement: {threads: 1000000000000000000000000000000}\n",
        "measurement.threads",
        None,
    ),
    (
        "backend-threads-huge",
        "backends:\n  - {name: pytorch, kind: pytorch, threads: 100000}\n",
        "backends[0].threads",
        None,
    ),
    ("rounds-zero", "measurement: {rounds: 0}\n", "measurement.rounds", None),
    ("rounds-huge", "measurement: {rounds: 1000000}\n", "measurement.rounds", None),
    ("warmup-negative", "measurement: {warmup_iterations: -1}\n", "measurement.warmup_iterations", None),
    (
        "min-iterations-huge",
        "measurement: {min_iterations: 1000000000}\n",
        "measurement.min_iterations",
        None,
    ),
    (
        "max-below-min",
        "measurement: {min_iterations: 100, max_iterations: 10}\n",
        "measurement.max_iterations",
        None,
    ),
    ("timeout-infinite", "measurement: {timeout_s: .inf}\n", "measurement.timeout_s", None),
    ("timeout-a-year", "measurement: {timeout_s: 31536000}\n", "measurement.timeout_s", None),
    ("min-time-nan", "measurement: {min_time_s: .nan}\n", "measurement.min_time_s", None),
    ("images-zero", "dataset: {images: 0}\n", "dataset.images", None),
    ("images-huge", "dataset: {images: 100000000}\n", "dataset.images", None),
    (
        "calibration-huge",
        "backends:\n  - {name: pytorch, kind: pytorch}\n  - {name: q, kind: onnxruntime, quantization: static, calibration_images: 1000000}\n",
        "backends[1].calibration_images",
        None,
    ),
    ("input-size-huge", "model: {input_size: 1000000}\n", "model.input_size", None),
    ("input-size-not-multiple-of-32", "model: {input_size: 100}\n", "model.input_size", None),
    (
        "input-shape-dimension-huge",
        "model: {task: raw, input_shape: [1, 3, 99999999999]}\ndataset: {source: random}\n",
        "model.input_shape[2]",
        None,
    ),
    ("seed-negative", "dataset: {seed: -1}\n", "dataset.seed", None),
    ("opset-unknown", "export: {opset: 99}\n", "export.opset", None),
    ("confidence-above-one", "postprocess: {conf_threshold: 1.83}\n", "postprocess.conf_threshold", None),
    ("max-detections-zero", "postprocess: {max_detections: 0}\n", "postprocess.max_detections", None),
    ("min-samples-one", "analysis: {min_samples: 1}\n", "analysis.min_samples", None),
    ("cpu-share-above-one", "analysis: {max_other_cpu_share: 2}\n", "analysis.max_other_cpu_share", None),
    ("version-too-long", "version: " + "v" * 65 + "\n", "version", None),
    ("version-escapes-the-site", "version: ../../etc\n", "version", None),
    ("version-reserved", "version: Assets\n", "version", None),
    ("title-too-long", "title: " + "t" * 300 + "\n", "title", None),
    # --- keys that do not fit together, or do nothing where they are ----------------------------
    (
        "duplicate-backend-names",
        "backends:\n  - {name: pytorch, kind: pytorch}\n  - {name: pytorch, kind: onnxruntime}\n",
        "backends[1].name",
        None,
    ),
    ("reference-not-pytorch", "reference: ort\n" + OK_BACKENDS, "reference", None),
    (
        "optimization-on-pytorch",
        "backends:\n  - {name: pytorch, kind: pytorch, graph_optimization: disabled}\n",
        "backends[0].graph_optimization",
        None,
    ),
    (
        "quantization-on-pytorch",
        "backends:\n  - {name: pytorch, kind: pytorch, quantization: static}\n",
        "backends[0].quantization",
        None,
    ),
    (
        "calibration-without-static",
        "backends:\n  - {name: pytorch, kind: pytorch}\n  - {name: q, kind: onnxruntime, calibration_images: 8}\n",
        "backends[1].calibration_images",
        None,
    ),
    (
        "rect-letterbox-on-ort",
        "backends:\n  - {name: pytorch, kind: pytorch}\n  - {name: o, kind: onnxruntime, letterbox: rect}\n",
        "backends[1].letterbox",
        None,
    ),
    (
        "torchscript-without-file",
        "model: {source: torchscript}\nexport: {exporter: legacy}\n",
        "model.checkpoint",
        None,
    ),
    (
        "torchscript-with-dynamo",
        "model: {source: torchscript, checkpoint: m.pt}\n",
        "export.exporter",
        _file("m.pt"),
    ),
    ("factory-without-function", "model: {source: factory}\n", "model.factory", None),
    ("factory-on-builtin", 'model: {factory: "pkg.mod:build"}\n', "model.factory", None),
    ("python-path-on-builtin", "model: {python_path: [src]}\n", "model.python_path", _folder("src")),
    ("mean-on-segmentation", "model: {mean: [0.5, 0.5, 0.5]}\n", "model.mean", None),
    ("folder-path-on-synthetic", "dataset: {path: imgs}\n", "dataset.path", _folder("imgs")),
    ("labels-on-synthetic", "dataset: {labels: coco}\n", "dataset.labels", None),
    (
        "labels-path-without-labels",
        "dataset: {source: folder, path: imgs, labels_path: l}\n",
        "dataset.labels_path",
        _both(_folder("imgs"), _folder("l")),
    ),
    ("input-shape-not-raw", "model: {input_shape: [1, 3, 8, 8]}\n", "model.input_shape", None),
    ("raw-on-shapes", "model: {task: raw}\n", "dataset.source", None),
    # --- files and folders the config names -----------------------------------------------------
    ("checkpoint-missing", "model: {checkpoint: weights/best.pt}\n", "model.checkpoint", None),
    ("checkpoint-a-folder", "model: {checkpoint: weights}\n", "model.checkpoint", _folder("weights")),
    ("checkpoint-empty-string", 'model: {checkpoint: ""}\n', "model.checkpoint", None),
    ("checkpoint-nul-byte", 'model: {checkpoint: "a\\0b.pt"}\n', "model.checkpoint", None),
    ("checkpoint-with-a-newline", 'model: {checkpoint: "a\\nb.pt"}\n', "model.checkpoint", None),
    ("onnx-file-missing", "export: {onnx_file: deploy/model.onnx}\n", "export.onnx_file", None),
    ("onnx-file-a-folder", "export: {onnx_file: deploy}\n", "export.onnx_file", _folder("deploy")),
    (
        "dataset-folder-missing",
        "model: {task: detection}\ndataset: {source: folder, path: images}\n",
        "dataset.path",
        None,
    ),
    (
        "dataset-folder-a-file",
        "model: {task: detection}\ndataset: {source: folder, path: images.zip}\n",
        "dataset.path",
        _file("images.zip"),
    ),
    (
        "coco-labels-missing",
        "model: {task: detection}\ndataset: {source: folder, path: images, labels: coco, labels_path: ann.json}\n",
        "dataset.labels_path",
        _folder("images"),
    ),
    (
        "coco-default-labels-missing",
        "model: {task: detection}\ndataset: {source: folder, path: images, labels: coco}\n",
        "dataset.labels_path",
        _folder("images"),
    ),
    (
        "yolo-labels-a-file",
        "model: {task: detection}\ndataset: {source: folder, path: images, labels: yolo, labels_path: labels.txt}\n",
        "dataset.labels_path",
        _both(_folder("images"), _file("labels.txt")),
    ),
    (
        "python-path-missing",
        'model: {source: factory, factory: "pkg.mod:build", python_path: [src]}\n',
        "model.python_path[0]",
        None,
    ),
    (
        "python-path-a-file",
        'model: {source: factory, factory: "pkg.mod:build", python_path: [src.py]}\n',
        "model.python_path[0]",
        _file("src.py"),
    ),
    ("site-dir-a-file", "site: {dir: site.txt}\n", "site.dir", _file("site.txt")),
]

# Refused by `build` too, before any measuring (no build/ work folder) and with the site untouched.
BUILD_CASES = [
    "threads-huge",
    "max-below-min",
    "checkpoint-missing",
    "onnx-file-missing",
    "dataset-folder-missing",
    "billion-laughs",
    "duplicate-nested-key",
    "5000-digit-integer",
]


def _prepare(tmp_path: Path, text: str | bytes, setup: Callable[[Path], None] | None) -> None:
    path = tmp_path / NAME
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    if setup is not None:
        setup(tmp_path)


def _assert_one_line(code: int, err: str, key: str | None) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith(f"error: {NAME}: "), line
    assert len(line) < 400, line
    if key is not None:
        # The key path starts the line (it may go on below the key: `model.name[0][0]...`).
        assert any(line.startswith(f"error: {NAME}: {key}{after}") for after in ":.["), line
    return line


def test_the_battery_is_large_and_every_case_has_its_own_name():
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)
    assert set(BUILD_CASES) <= {case[0] for case in CASES}


@pytest.mark.parametrize(
    ("text", "key", "setup"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_validate_refuses_with_one_line_and_exit_2(tmp_path, reportgen, text, key, setup):
    _prepare(tmp_path, text, setup)
    code, out, err = reportgen("validate", NAME, cwd=tmp_path)
    _assert_one_line(code, err, key)
    assert out == ""


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", BUILD_CASES)
def test_build_refuses_before_measuring_and_leaves_the_site_alone(tmp_path, reportgen, case):
    (_, text, key, setup) = next(c for c in CASES if c[0] == case)
    _prepare(tmp_path, text, setup)
    site = tmp_path / "site"  # the default site.dir, relative to the working folder
    (site / "0.1.0").mkdir(parents=True)
    (site / "0.1.0" / "index.html").write_text("<html>an earlier report</html>")
    (site / "index.html").write_text("<html>the index</html>")
    before = _tree(site)
    code, _, err = reportgen("build", "-c", NAME, cwd=tmp_path)
    _assert_one_line(code, err, key)
    assert _tree(site) == before
    assert sorted(p.name for p in site.iterdir()) == ["0.1.0", "index.html"]  # no staging folder either
    assert not (tmp_path / "build").exists()  # the work folder of a measurement was never made


def test_the_messages_name_what_was_expected(tmp_path, reportgen):
    # A few lines in full: the range is in the line, and the value as written.
    expected = {
        "threads-huge": "measurement.threads: expected a positive integer of at most 1024, got"
        " 1000000000000000000000000000000",
        "billion-laughs": "f: expected at most 100000 values after expanding aliases, got 597871 (line 6, column 4)",
        "duplicate-nested-key": "measurement.threads: expected a key given once, got it again (line 3, column 3)",
        "checkpoint-missing": "model.checkpoint: expected an existing file (it does not exist), got"
        " 'weights/best.pt'",
        "not-utf8": "cannot read: not UTF-8 text (byte 0xe9 on line 1)",
        "confidence-above-one": "postprocess.conf_threshold: expected a number between 0 and 1, exclusive, got 1.83",
        "deep-flow-nesting": "model.name[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: expected at most"
        " 20 levels of nesting, got more (line 1, column 34)",
    }
    for case, line in expected.items():
        (_, text, _, setup) = next(c for c in CASES if c[0] == case)
        folder = tmp_path / case
        folder.mkdir()
        _prepare(folder, text, setup)
        code, _, err = reportgen("validate", NAME, cwd=folder)
        assert err == f"error: {NAME}: {line}\n"


def test_a_folder_given_as_the_config_is_one_line(tmp_path, reportgen):
    (tmp_path / "configs").mkdir()
    code, _, err = reportgen("validate", "configs", cwd=tmp_path)
    assert code == 2 and err == "error: configs: is a folder, not a config file\n"
