"""Hugging Face models nobody here wrote, end to end through `reportgen build` (model.source: huggingface).

Each is a real transformers architecture built from a small config (random weights, nothing
downloaded), saved with save_pretrained into a folder, and configured as the README shows: the report
must carry the metrics of its task.
"""

import json
import subprocess
import sys
import warnings

import pytest
import yaml

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

pytestmark = pytest.mark.slow

QUICK = {"rounds": 1, "warmup_iterations": 1, "min_iterations": 3, "min_time_s": 0, "max_time_s": 1}
BACKENDS = [{"name": "pytorch", "kind": "pytorch"}, {"name": "onnxruntime", "kind": "onnxruntime"}]
SHAPES = {0: "circle", 1: "square", 2: "triangle", 3: "cross"}


def _small(kind: str):
    """Return a tiny model of the architecture ``kind`` (seeded random weights)."""
    torch.manual_seed(0)
    t = transformers
    if kind == "vit":
        config = t.ViTConfig(
            image_size=32,
            patch_size=8,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            num_labels=4,
            id2label=SHAPES,
        )
        return t.ViTForImageClassification(config)
    if kind == "segformer":
        config = t.SegformerConfig(
            num_encoder_blocks=2,
            depths=[1, 1],
            sr_ratios=[2, 1],
            hidden_sizes=[16, 32],
            patch_sizes=[7, 3],
            strides=[4, 2],
            num_attention_heads=[1, 2],
            mlp_ratios=[2, 2],
            decoder_hidden_size=32,
            num_labels=5,
        )
        return t.SegformerForSemanticSegmentation(config)
    if kind == "yolos":
        config = t.YolosConfig(
            image_size=[64, 64],
            patch_size=16,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            num_detection_tokens=10,
            num_labels=4,
        )
        return t.YolosForObjectDetection(config)
    if kind == "detr":  # a ResNet backbone from transformers itself (no timm)
        backbone = t.ResNetConfig(
            embedding_size=8, hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1], out_features=["stage4"]
        )
        config = t.DetrConfig(
            use_timm_backbone=False,
            backbone_config=backbone,
            use_pretrained_backbone=False,
            d_model=32,
            encoder_layers=1,
            decoder_layers=1,
            encoder_attention_heads=2,
            decoder_attention_heads=2,
            encoder_ffn_dim=64,
            decoder_ffn_dim=64,
            num_queries=10,
            num_labels=4,
        )
        return t.DetrForObjectDetection(config)
    if kind == "upernet":  # a ConvNeXt backbone under a UperNet head
        backbone = t.ConvNextConfig(
            hidden_sizes=[8, 16, 32, 64],
            depths=[1, 1, 1, 1],
            out_features=["stage1", "stage2", "stage3", "stage4"],
        )
        config = t.UperNetConfig(
            backbone_config=backbone, hidden_size=16, auxiliary_in_channels=32, num_labels=5
        )
        return t.UperNetForSemanticSegmentation(config)
    if kind == "gpt2":
        config = t.GPT2Config(
            vocab_size=100, n_positions=16, n_embd=32, n_layer=2, n_head=2, num_labels=3, pad_token_id=0
        )
        return t.GPT2ForSequenceClassification(config)
    config = t.BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=3,
    )
    if kind == "bert-tokens":  # one answer per token, not per sequence
        return t.BertForTokenClassification(config)
    return t.BertForSequenceClassification(config)


def _run(tmp_path, kind: str, model: dict, dataset: dict, **sections) -> subprocess.CompletedProcess:
    """Save the model folder, write the config, run `reportgen build`."""
    _small(kind).eval().save_pretrained(tmp_path / kind)
    config = {
        "version": kind,
        "model": {"name": kind, "source": "huggingface", "checkpoint": kind, **model},
        "dataset": {"seed": 3, "images": 6, **dataset},
        "measurement": QUICK,
        "backends": BACKENDS,
        "site": {"dir": "site"},
        **sections,
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "reportgen", "build", "-c", "config.yaml"]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)


def _build(tmp_path, kind: str, model: dict, dataset: dict, **sections) -> dict:
    """_run, which must succeed; return the results document."""
    result = _run(tmp_path, kind, model, dataset, **sections)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / kind / "index.html").is_file()
    document = json.loads((tmp_path / "site" / kind / "results.json").read_text())
    for name, backend in document["backends"].items():
        assert backend["status"] == "ok", (name, backend["error"])
    return document


def test_segformer_reports_miou_and_pixel_agreement(tmp_path):
    document = _build(tmp_path, "segformer", {"task": "semantic_segmentation", "input_size": 64}, {})
    metrics = document["backends"]["onnxruntime"]["metrics"]
    assert 0 <= metrics["miou"] <= 1 and len(metrics["per_class_iou"]) == 5
    assert document["model"]["class_names"][0] == "background"
    parity = document["backends"]["onnxruntime"]["parity"]
    assert parity["pixel_agreement"] > 0.99 and parity["changed_pixel_share"] < 0.01


def test_yolos_reports_box_matching_and_map_without_its_hidden_state(tmp_path):
    document = _build(
        tmp_path,
        "yolos",
        {"task": "set_detection", "input_size": 64, "outputs": {"last_hidden_state": "shown"}},
        {},
        postprocess={"conf_threshold": 0.05},  # random weights: every query is unsure
    )
    backend = document["backends"]["onnxruntime"]
    assert "map50" in backend["metrics"] and backend["metrics"]["ground_truth_objects"] > 0
    assert backend["parity"]["detection_match_rate"] > 0.9
    assert {"logits", "pred_boxes", "last_hidden_state"} <= set(backend["parity"]["outputs"])


def test_detr_with_its_own_resnet_backbone_reports_box_matching_and_map(tmp_path):
    document = _build(
        tmp_path,
        "detr",
        {"task": "set_detection", "input_size": 64},
        {},
        postprocess={"conf_threshold": 0.05},
    )
    backend = document["backends"]["onnxruntime"]
    assert "map50" in backend["metrics"] and backend["metrics"]["detections_per_image"] > 0
    assert backend["parity"]["detection_match_rate"] > 0.9


def test_upernet_on_a_convnext_backbone_reports_miou(tmp_path):
    document = _build(tmp_path, "upernet", {"task": "semantic_segmentation", "input_size": 64}, {})
    backend = document["backends"]["onnxruntime"]
    assert len(backend["metrics"]["per_class_iou"]) == 5 and backend["parity"]["pixel_agreement"] > 0.99


def test_vit_classifies_the_one_shape_images(tmp_path):
    document = _build(tmp_path, "vit", {"task": "classification", "input_size": 32}, {})
    assert document["model"]["class_names"] == list(SHAPES.values())
    backend = document["backends"]["onnxruntime"]
    assert "top1_accuracy" in backend["metrics"] and backend["parity"]["top1_agreement"] == 1.0


def _optimum_layout(model, folder, length: int) -> None:
    """Write model.onnx + config.json into ``folder`` as `optimum-cli export onnx` lays them out (input
    and output names, dynamic batch and sequence axes, the TorchScript-based exporter optimum uses).
    optimum itself needs transformers < 4.58, so it cannot be installed beside ours: the layout is ours."""
    folder.mkdir()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = tuple(torch.ones(1, length, dtype=torch.int64) for _ in names)
    axes = {name: {0: "batch_size", 1: "sequence_length"} for name in names}
    with warnings.catch_warnings():  # the legacy exporter's deprecation and tracer notes
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            example,
            str(folder / "model.onnx"),
            input_names=names,
            output_names=["logits"],
            dynamic_axes={**axes, "logits": {0: "batch_size"}},
            opset_version=17,
            dynamo=False,
        )
    model.config.save_pretrained(folder)


def test_bert_reads_lines_through_its_tokenizer_against_an_optimum_folder(tmp_path):
    """No model.inputs: forward() names the token inputs, the folder's tokenizer makes them from lines."""
    from test_hf_folder import LINES, _tokenizer

    model = _small("bert")
    _tokenizer().save_pretrained(tmp_path / "bert")
    _optimum_layout(model.eval(), tmp_path / "bert-onnx", 16)
    (tmp_path / "lines.txt").write_text("\n".join(LINES) + "\n")
    document = _build(
        tmp_path,
        "bert",
        {"task": "classification", "sequence_length": 16},
        {"source": "text", "path": "lines.txt"},
        export={"onnx_file": "bert-onnx"},
    )
    assert [i["name"] for i in document["model"]["inputs"]] == [
        "input_ids",
        "attention_mask",
        "token_type_ids",
    ]
    assert document["model"]["inputs"][0]["shape"] == ["batch", 16]
    assert document["model"]["input_binding"]["by"] == "name"
    assert document["dataset"]["source"] == "text" and document["dataset"]["images"] == len(LINES)
    assert document["backends"]["onnxruntime"]["parity"]["top1_agreement"] == 1.0


def test_a_model_folder_normalizes_as_its_image_processor_does(tmp_path):
    from reportgen.config.schema import parse_config
    from reportgen.measure.tasks import task_settings

    (tmp_path / "vit").mkdir()
    (tmp_path / "vit" / "preprocessor_config.json").write_text(
        '{"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}'
    )
    model = {"source": "huggingface", "checkpoint": str(tmp_path / "vit"), "task": "classification"}
    settings = task_settings(parse_config({"model": model}, "test.yaml"))
    assert settings["mean"] == settings["std"] == [0.5, 0.5, 0.5]
    chosen = task_settings(parse_config({"model": {**model, "mean": [0.1, 0.2, 0.3]}}, "test.yaml"))
    assert chosen["mean"] == [0.1, 0.2, 0.3]  # the config's own values win


def test_a_dynamo_export_failure_names_the_exporter_that_may_export_it(tmp_path):
    """Swin fails torch.export (a view of a transposed tensor); the line names export.exporter: legacy.
    The same shape of failure on a small model: a branch on a tensor's value, which the TorchScript
    tracer records (one branch) where torch.export refuses."""
    from reportgen.measure.worker.export import _onnx

    class DataDependent(torch.nn.Module):
        def forward(self, x):
            return x * 2 if x.sum().item() > 0 else x - 1

    spec = {"name": "x", "dtype": "float32", "shape": ["batch", 3], "keyword": False}
    job = {"onnx_path": str(tmp_path / "m.onnx"), "opset": 18, "inputs": [spec], "dynamic_batch": True}
    example = ((torch.ones(2, 3),), {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        failed = _onnx(DataDependent(), example, ["output0"], {**job, "exporter": "dynamo"})
        assert failed["status"] == "failed", "this torch exports data-dependent branches"
        assert failed["error"].endswith(
            "(export.exporter: legacy, the TorchScript-based exporter, may export this model)"
        )
        assert _onnx(DataDependent(), example, ["output0"], {**job, "exporter": "legacy"})["status"] == "ok"


def test_a_token_classifier_under_classification_is_one_line(tmp_path):
    """[1, tokens, classes] logits would be read as one vector of tokens x classes: said before the export."""
    model = {"task": "classification", "sequence_length": 8}
    result = _run(tmp_path, "bert-tokens", model, {"source": "random"})
    assert result.returncode == 2, result.stderr[-2000:]
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "model.task: classification reads one vector of class logits per sample, the model's logits is "
            "[1, 8, 3] (one per token or position): expected task raw, or model.outputs naming an output of "
            "shape [batch, classes]"
        )
    )


def test_gpt2_is_compared_without_its_key_value_cache(tmp_path):
    """A decoder returns its cache (a DynamicCache torch.export cannot return): loaded with use_cache
    off, its inputs inferred from forward() and sized by n_positions."""
    document = _build(tmp_path, "gpt2", {"task": "classification"}, {"source": "random"})
    assert [i["shape"] for i in document["model"]["inputs"]] == [["batch", 16]] * 3
    assert document["model"]["output_names"] == ["logits"]
    assert document["backends"]["onnxruntime"]["parity"]["top1_agreement"] == 1.0
