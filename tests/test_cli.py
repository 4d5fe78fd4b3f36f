"""The command line: one-line errors with exit codes, never a traceback."""

import subprocess
import sys


def reportgen(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "reportgen", *args], capture_output=True, text=True, cwd=cwd)


def test_invalid_config_exits_2_with_one_line_per_error(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(
        "backends:\n  - {name: pytorch, kind: pytorch}\n  - {name: ort, kind: onnxruntime, threads: two}\n"
    )
    result = reportgen("build", "-c", str(config))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        == f"error: {config}: backends[1].threads: expected a positive integer, got 'two'"
    )


def test_missing_config_names_the_file(tmp_path):
    result = reportgen("run", "-c", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: no such file"


def test_bad_version_override_is_refused(tmp_path):
    result = reportgen("build", "-c", "configs/demo.yaml", "--version", "../x")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--version" in result.stderr and "version" in result.stderr


def test_render_of_a_missing_results_file_exits_2(tmp_path):
    result = reportgen("render", str(tmp_path / "missing.json"), "--site-dir", str(tmp_path / "site"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'missing.json'}: no such results file"


def test_help_lists_the_commands():
    result = reportgen("--help")
    assert result.returncode == 0
    for command in ("build", "run", "render"):
        assert command in result.stdout
