"""The text demo: its generated task follows its rule, its shipped weights and files match the code,
and both ONNX exporters (and dynamic INT8) give what eager PyTorch gives."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from reportgen.demo.text_net import TEXT_CHECKPOINT, text_classifier
from reportgen.demo.text_task import (
    CLASS_NAMES,
    EVAL_SAMPLES,
    EVAL_SEED,
    MARKERS,
    MIN_LEN,
    PAD,
    SEQ_LEN,
    make_dataset,
    make_sample,
    rule_label,
)
from reportgen.shipped import config_path

EVAL_DIR = config_path("demo-text").parent / "text"
NAMES = ["input_ids", "attention_mask"]


@pytest.fixture(scope="module")
def model():
    return text_classifier()


@pytest.fixture(scope="module")
def shipped():
    """The held-out files configs/demo-text.yaml evaluates on."""
    return tuple(np.load(EVAL_DIR / f"{name}.npy") for name in (*NAMES, "labels"))


def _eager(model, ids: np.ndarray, masks: np.ndarray) -> np.ndarray:
    with torch.inference_mode():  # as the pytorch backend runs it
        return model(torch.from_numpy(ids), torch.from_numpy(masks)).numpy()


def test_same_seed_same_data_and_a_sample_depends_only_on_seed_and_index():
    a, b = make_dataset(7, 50), make_dataset(7, 50)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    ids, masks, label = make_sample(7, 12)
    assert np.array_equal(make_dataset(7, 3, start=10)[0][2], ids) and make_dataset(7, 13)[2][12] == label
    assert not np.array_equal(make_sample(8, 0)[0], make_sample(7, 0)[0])


def test_sequences_are_right_padded_and_labelled_by_the_rule():
    ids, masks, labels = make_dataset(11, 500)
    assert ids.dtype == masks.dtype == labels.dtype == np.int64 and ids.shape == masks.shape == (500, SEQ_LEN)
    lengths = masks.sum(1)
    assert lengths.min() >= MIN_LEN and lengths.max() <= SEQ_LEN
    assert np.array_equal(masks, (np.arange(SEQ_LEN) < lengths[:, None]).astype(np.int64))
    assert (ids[masks == 0] == PAD).all() and (ids[masks == 1] != PAD).all()
    assert [rule_label(i, m) for i, m in zip(ids, masks)] == labels.tolist()
    assert set(labels.tolist()) == set(range(len(CLASS_NAMES)))


def test_counting_markers_does_not_solve_the_task():
    # Every sequence holds another marker than its class, and the most frequent marker is often
    # not the first: the net has to attend to positions, not count tokens.
    ids, _, labels = make_dataset(11, 500)
    counts = np.stack([(ids == m).sum(1) for m in MARKERS], 1)
    assert ((counts > 0).sum(1) >= 2).all()
    assert (counts.argmax(1) != labels).mean() > 0.2


def test_shipped_files_are_what_the_generator_makes():
    expected = make_dataset(EVAL_SEED, EVAL_SAMPLES)
    for name, array in zip((*NAMES, "labels"), expected):
        stored = np.load(EVAL_DIR / f"{name}.npy")
        assert stored.dtype == np.int64 and np.array_equal(stored, array), name


def test_shipped_weights_are_small_fp16_and_accurate_on_held_out_data(model, shipped):
    checkpoint = torch.load(TEXT_CHECKPOINT, map_location="cpu", weights_only=True)
    assert all(v.dtype == torch.float16 for v in checkpoint["state_dict"].values())
    assert TEXT_CHECKPOINT.stat().st_size < 2 * 2**20
    ids, masks, labels = shipped
    assert (_eager(model, ids, masks).argmax(1) == labels).mean() >= 0.95


def test_a_fully_masked_input_gives_finite_logits(model):
    # An exporter's example input may be all zeros: no real token must not mean NaN.
    zeros = np.zeros((2, SEQ_LEN), np.int64)
    assert np.isfinite(_eager(model, zeros, zeros)).all()


def test_the_factory_loads_through_reportgens_loader():
    from reportgen.measure.worker.models.factory import load

    loaded = load({"factory": "reportgen.demo.text_net:text_classifier", "class_names": list(CLASS_NAMES)})
    assert not loaded.module.training and loaded.class_names == list(CLASS_NAMES)


def _export(model, path, exporter: str) -> None:
    example = tuple(torch.ones(8, SEQ_LEN, dtype=torch.int64) for _ in NAMES)
    common = dict(input_names=NAMES, output_names=["output0"], opset_version=18)
    with warnings.catch_warnings():  # both exporters warn about their own internals and deprecations
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            batch = torch.export.Dim("batch")
            torch.onnx.export(
                model, example, str(path), dynamo=True, external_data=False, verbose=False,
                dynamic_shapes=({0: batch}, {0: batch}), **common,
            )  # fmt: skip
        else:
            axes = {name: {0: "batch"} for name in (*NAMES, "output0")}
            torch.onnx.export(model, example, str(path), dynamo=False, dynamic_axes=axes, **common)


def _session(path):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.slow
@pytest.mark.parametrize("exporter", ["dynamo", "legacy"])
def test_export_matches_eager_at_batch_1_and_8_and_quantizes(tmp_path, model, shipped, exporter):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = tmp_path / "text.onnx"
    _export(model, path, exporter)
    assert list(tmp_path.iterdir()) == [path]  # one self-contained file
    session = _session(path)
    ids, masks, labels = shipped
    for batch in (1, 8):
        (logits,) = session.run(None, {"input_ids": ids[:batch], "attention_mask": masks[:batch]})
        assert logits.shape == (batch, len(CLASS_NAMES))
        np.testing.assert_allclose(logits, _eager(model, ids[:batch], masks[:batch]), rtol=1e-4, atol=1e-4)
    quantized = tmp_path / "text.int8.onnx"
    quantize_dynamic(path, quantized, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8)
    (logits,) = _session(quantized).run(None, {"input_ids": ids, "attention_mask": masks})
    assert (logits.argmax(1) == labels).mean() >= 0.95
