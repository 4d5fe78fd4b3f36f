"""What a Hugging Face model folder says about its inputs (measure/hffolder.py), read without torch:
forward()'s token inputs, the tokenizer on lines of text, the image processor's size, an optimum folder."""

import json

import numpy as np
import pytest

from reportgen.config.schema import load_config, parse_config
from reportgen.errors import ConfigError, ReportgenError
from reportgen.measure import datasets, inputs
from reportgen.measure.tasks import task_settings

LINES = [
    "the cat sat on the mat",
    "a dog ran in the park",
    "the weather is nice today",
    "models turn text into numbers",
    "onnx runtime runs the exported graph",
    "is the answer the same",
]


def folder(tmp_path, architecture: str, model_type: str, **config) -> str:
    """Write a model folder's config.json (no weights: nothing here loads the model)."""
    path = tmp_path / model_type
    path.mkdir()
    written = {"architectures": [architecture], "model_type": model_type, **config}
    (path / "config.json").write_text(json.dumps(written))
    return str(path)


def config(checkpoint: str, dataset: dict | None = None, **model):
    model = {"source": "huggingface", "checkpoint": checkpoint, "task": "classification", **model}
    return parse_config({"model": model, "dataset": dataset or {"source": "random", "images": 4}}, "t.yaml")


def test_a_text_model_takes_the_token_inputs_its_forward_names(tmp_path):
    bert = folder(
        tmp_path, "BertForSequenceClassification", "bert", vocab_size=50, max_position_embeddings=64
    )
    specs = inputs.specs(config(bert))
    assert [s["name"] for s in specs] == ["input_ids", "attention_mask", "token_type_ids"]
    assert all(s["shape"] == ["batch", 64] and s["dtype"] == "int64" and s["keyword"] for s in specs)
    samples = inputs.generate(config(bert, sequence_length=16), 4, seed=1)
    assert samples["input_ids"].shape == (4, 1, 16) and 0 <= samples["input_ids"].min()
    assert samples["input_ids"].max() < 50 and len(np.unique(samples["input_ids"])) > 5
    assert samples["attention_mask"].min() == 1 and samples["token_type_ids"].max() == 0
    distil = folder(tmp_path, "DistilBertForSequenceClassification", "distilbert", max_position_embeddings=32)
    assert [s["name"] for s in inputs.specs(config(distil))] == ["input_ids", "attention_mask"]


def test_the_config_s_own_inputs_win(tmp_path):
    bert = folder(tmp_path, "BertForSequenceClassification", "bert", max_position_embeddings=64)
    declared = [{"name": "input_ids", "dtype": "int64", "shape": ["batch", 8], "keyword": True}]
    specs = inputs.specs(config(bert, inputs=declared))
    assert [(s["name"], s["shape"]) for s in specs] == [("input_ids", ["batch", 8])]


def test_inputs_that_cannot_be_told_name_the_key_to_set(tmp_path):
    whisper = folder(tmp_path, "WhisperForConditionalGeneration", "whisper")
    with pytest.raises(
        ConfigError, match=r"model\.inputs: cannot tell the inputs of Whisper.*input_features"
    ):
        inputs.specs(config(whisper))
    bert = folder(tmp_path, "BertForSequenceClassification", "bert")  # no max_position_embeddings
    with pytest.raises(ConfigError, match=r"model\.sequence_length: expected the number of tokens"):
        inputs.specs(config(bert))
    with pytest.raises(ConfigError, match=r"dataset\.source: synthetic does not fit BertForSequence.*'text'"):
        inputs.specs(config(bert, {"source": "synthetic"}))


def _tokenizer():
    """A real WordPiece tokenizer trained on the lines (tokenizers), as transformers saves it."""
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(LINES, trainers.WordPieceTrainer(vocab_size=80, special_tokens=special))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    return transformers.BertTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    )


@pytest.mark.parametrize("saved", ["tokenizer.json", "vocab.txt"])
def test_lines_are_tokenized_as_transformers_tokenizes_them(tmp_path, saved):
    transformers = pytest.importorskip("transformers")
    bert = folder(tmp_path, "BertForSequenceClassification", "bert", max_position_embeddings=64)
    fast = _tokenizer()
    fast.save_pretrained(tmp_path / "reference")
    if saved == "vocab.txt":  # a slow BERT tokenizer's save: the WordPiece vocabulary, one token a line
        vocab = sorted(fast.get_vocab().items(), key=lambda item: item[1])
        (tmp_path / "bert" / "vocab.txt").write_text("".join(f"{token}\n" for token, _ in vocab))
    else:
        fast.save_pretrained(bert)
    (tmp_path / "lines.txt").write_text("\n".join(["", *LINES, "  "]) + "\n")
    text = {"source": "text", "path": str(tmp_path / "lines.txt"), "images": 5}
    data = datasets.load(config(bert, text, sequence_length=12))
    expected = transformers.AutoTokenizer.from_pretrained(tmp_path / "reference")(
        LINES[:5], padding="max_length", truncation=True, max_length=12, return_tensors="np"
    )
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        np.testing.assert_array_equal(data.samples[name][:, 0], expected[name])
    assert data.info["source"] == "text" and data.info["images"] == 5
    assert (data.samples["attention_mask"] == 0).any()  # padded, not all ones


def test_text_needs_the_folder_s_tokenizer(tmp_path):
    bert = folder(tmp_path, "BertForSequenceClassification", "bert", max_position_embeddings=64)
    (tmp_path / "lines.txt").write_text("one line\n")
    text = {"source": "text", "path": str(tmp_path / "lines.txt")}
    with pytest.raises(ReportgenError, match=r"dataset\.source: text needs the model folder's tokenizer"):
        datasets.load(config(bert, text))


def test_text_data_is_refused_where_it_cannot_work():
    model = {"source": "builtin", "task": "classification"}
    with pytest.raises(ConfigError, match=r"model\.source: expected 'huggingface' for dataset\.source text"):
        parse_config({"model": model, "dataset": {"source": "text", "path": "x.txt"}}, "t.yaml")
    with pytest.raises(ConfigError, match=r"model\.sequence_length: expected null unless model\.source"):
        parse_config({"model": {"sequence_length": 16}}, "t.yaml")


def test_images_take_the_image_processor_s_size_unless_the_config_sets_one(tmp_path):
    vit = folder(tmp_path, "ViTForImageClassification", "vit")
    processor = {"size": {"height": 48, "width": 48}, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}
    (tmp_path / "vit" / "preprocessor_config.json").write_text(json.dumps(processor))
    synthetic = {"source": "synthetic", "images": 2}
    assert task_settings(config(vit, synthetic))["input_size"] == 48
    assert inputs.specs(config(vit, synthetic))[0]["shape"] == ["batch", 3, 48, 48]
    assert datasets.load(config(vit, synthetic)).images.shape == (2, 48, 48, 3)
    assert task_settings(config(vit, synthetic, input_size=64))["input_size"] == 64
    cropped = {
        **processor,
        "size": {"shortest_edge": 40},
        "do_center_crop": True,
        "crop_size": {"height": 32},
    }
    (tmp_path / "vit" / "preprocessor_config.json").write_text(json.dumps(cropped))
    assert task_settings(config(vit, synthetic))["input_size"] == 32


def test_an_optimum_folder_is_its_model_onnx(tmp_path):
    """`optimum-cli export onnx` writes model.onnx + config.json into a folder: export.onnx_file takes it."""
    (tmp_path / "exported").mkdir()
    (tmp_path / "exported" / "config.json").write_text("{}")
    written = tmp_path / "config.yaml"
    written.write_text("export: {onnx_file: exported}\n")
    with pytest.raises(
        ConfigError, match=r"export\.onnx_file: expected an existing file \(.*model\.onnx does not"
    ):
        load_config(written)
    (tmp_path / "exported" / "model.onnx").write_bytes(b"\x08\x07")
    assert load_config(written).export.onnx_file == str(tmp_path / "exported" / "model.onnx")


def test_random_samples_of_an_image_model_are_its_pixel_values(tmp_path):
    vit = folder(tmp_path, "ViTForImageClassification", "vit", num_channels=3)
    (spec,) = inputs.specs(config(vit, input_size=32))
    assert (spec["name"], spec["dtype"], spec["shape"], spec["keyword"]) == (
        "pixel_values",
        "float32",
        ["batch", 3, 32, 32],
        False,
    )
    # A model type whose module has a shorter name (clip_vision_model lives in models/clip).
    clip = folder(tmp_path, "CLIPVisionModel", "clip_vision_model")
    assert [s["name"] for s in inputs.specs(config(clip, input_size=32))] == ["pixel_values"]
    (tmp_path / "lines.txt").write_text("one line\n")
    text = {"source": "text", "path": str(tmp_path / "lines.txt")}
    with pytest.raises(
        ConfigError, match=r"dataset\.source: text does not fit ViTForImage.*'synthetic', 'folder'"
    ):
        inputs.specs(config(vit, text))


def test_a_focal_loss_detector_scores_classes_with_a_sigmoid(tmp_path):
    rtdetr = folder(tmp_path, "RTDetrForObjectDetection", "rt_detr", use_focal_loss=True)
    synthetic = {"source": "synthetic", "images": 2}
    assert task_settings(config(rtdetr, synthetic, task="set_detection"))["outputs"] == {
        "logits": "sigmoid_logits"
    }
    chosen = config(rtdetr, synthetic, task="set_detection", outputs={"logits": "logits"})
    assert task_settings(chosen)["outputs"] == {"logits": "logits"}  # the config's own roles win
    detr = folder(tmp_path, "DetrForObjectDetection", "detr")  # softmax with a no-object class
    assert task_settings(config(detr, synthetic, task="set_detection"))["outputs"] == {}


@pytest.mark.parametrize("kind", ["vit", "clip"])
def test_folder_images_are_prepared_as_the_folder_s_image_processor_prepares_them(tmp_path, kind):
    """ViT's processor squashes to the square; CLIP's resizes the short side and crops the centre."""
    transformers = pytest.importorskip("transformers")
    from PIL import Image

    checkpoint = folder(tmp_path, "ViTForImageClassification", "vit")
    if kind == "vit":
        processor = transformers.ViTImageProcessor(size={"height": 48, "width": 48})
    else:
        crop = {"height": 32, "width": 32}
        processor = transformers.CLIPImageProcessor(size={"shortest_edge": 40}, crop_size=crop)
    processor.save_pretrained(checkpoint)
    rng = np.random.default_rng(0)
    pictures = [
        rng.integers(0, 255, (60, 90, 3), dtype=np.uint8),
        rng.integers(0, 255, (70, 50, 3), dtype=np.uint8),
    ]
    (tmp_path / "images").mkdir()
    for index, picture in enumerate(pictures):
        Image.fromarray(picture).save(tmp_path / "images" / f"{index}.png")
    chosen = config(checkpoint, {"source": "folder", "path": str(tmp_path / "images")})
    data, settings = datasets.load(chosen), task_settings(chosen)
    from reportgen.measure.tasks import classification

    ours = np.concatenate([classification.to_tensor(image, settings) for image in data.images])
    theirs = processor([Image.fromarray(p) for p in pictures], return_tensors="np")["pixel_values"]
    assert ours.shape == theirs.shape == (2, 3, settings["input_size"], settings["input_size"])
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_an_output_the_task_cannot_read_is_named_with_its_shape():
    from reportgen.measure.tasks import shape_problem

    assert shape_problem("classification", {"logits": [1, 5]}, {}) is None
    assert shape_problem("classification", {"output0": [1, 1000, 1, 1]}, {}) is None
    tokens = shape_problem("classification", {"logits": [1, 16, 5]}, {})
    assert tokens and "the model's logits is [1, 16, 5] (one per token" in tokens
    assert shape_problem("semantic_segmentation", {"logits": [1, 5, 16, 16]}, {}) is None
    flat = shape_problem("semantic_segmentation", {"logits": [1, 5]}, {})
    assert flat and "per-pixel logits [batch, classes, h, w], the model's logits is [1, 5]" in flat


def test_a_fairseq_style_model_s_length_leaves_out_the_positions_no_token_reaches(tmp_path):
    """RoBERTa numbers positions from padding_idx + 1: 34 rows hold 32 tokens (514 -> 512 in the real one)."""
    roberta = folder(
        tmp_path, "RobertaForSequenceClassification", "roberta", max_position_embeddings=34, pad_token_id=1
    )
    assert inputs.specs(config(roberta))[0]["shape"] == ["batch", 32]


def test_gpt2_s_positions_go_by_another_name(tmp_path):
    gpt2 = folder(tmp_path, "GPT2ForSequenceClassification", "gpt2", n_positions=24, vocab_size=100)
    specs = inputs.specs(config(gpt2))
    assert [s["name"] for s in specs] == ["input_ids", "attention_mask", "token_type_ids"]
    assert specs[0]["shape"] == ["batch", 24]
