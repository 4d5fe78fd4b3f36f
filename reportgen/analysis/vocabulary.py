"""The words a document is told in (issue 21): what one input is (an image, a sequence, a sample) and
what the model answers with (detections, classes, the class of each pixel, raw outputs), read from its
task and its inputs, declared once. Pages and findings name things through these codes (catalog keys
``noun.<item>.*``, ``answers.<answers>``, ``section.quality.<answers>``), so "images" or "detections"
appear only where there are some: a BERT classifier's page speaks of sequences and top classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from reportgen.analysis.verdicts import is_ok
from reportgen.results.schema import Document

Item = Literal["image", "sequence", "sample"]
Answers = Literal["detections", "classes", "pixels", "outputs"]

# What each task (config.model.task) answers with.
ANSWERS: dict[str, Answers] = {
    "detection": "detections",
    "segmentation": "detections",
    "set_detection": "detections",
    "classification": "classes",
    "semantic_segmentation": "pixels",
    "raw": "outputs",
}
# Data sources made of pictures (the shapes generator, an image folder) and of token ids (the text demo).
IMAGE_SOURCES = ("synthetic", "folder")
TEXT_SOURCES = ("text",)
# Top-5 figures say something only with more classes than that: with 3 classes they are 100% by construction.
TOP_K = 5


@dataclass(frozen=True)
class Vocabulary:
    """The nouns of one document."""

    item: Item  # one input: catalog noun.<item>.one / .many / .title / .rate
    answers: Answers  # what is compared beyond raw outputs: answers.<answers>, section.quality.<answers>
    classes: int | None  # a classifier's number of classes, where the document knows it

    @property
    def top5(self) -> bool:
        """Return whether top-5 figures mean anything (more than five classes, or unknown)."""
        return self.classes is None or self.classes > TOP_K


def vocabulary(document: Document) -> Vocabulary:
    """Return the nouns a document's pages and findings use."""
    return Vocabulary(_item(document), ANSWERS.get(document["model"]["task"], "outputs"), _classes(document))


def _item(document: Document) -> Item:
    """Return what one input is: pictures from an image source, or a tensor shaped like a picture
    (batch, 1 or 3 channels, height, width); token ids ([batch, length] integers) are sequences."""
    source, model = document["dataset"]["source"], document["model"]
    if source in IMAGE_SOURCES:
        return "image"
    specs = model.get("inputs") or []
    if source in TEXT_SOURCES or any(_integer(s["dtype"]) and len(s["shape"]) == 2 for s in specs):
        return "sequence"
    found = document["dataset"].get("shape")  # a random source's tensor; else the model's input
    shape = list(found) if isinstance(found, list) else model["input_shape"]
    shapes = [s["shape"] for s in specs] or [shape]
    if len(shapes) == 1 and len(shapes[0]) == 4 and shapes[0][1] in (1, 3):
        return "image"
    return "sample"


def _integer(dtype: str) -> bool:
    return dtype.startswith(("int", "uint"))


def _classes(document: Document) -> int | None:
    """Return the number of classes: the class names, else what a classification run measured."""
    names = document["model"].get("class_names")
    if names:
        return len(names)
    for backend in document["backends"].values():
        if is_ok(backend) and (counted := (backend["metrics"] or {}).get("classes")) is not None:
            return int(counted)
    return None


def words(vocab: Vocabulary, message: Callable[[str], str]) -> dict[str, str]:
    """Return the nouns texts fill in, in one language (``message``: key -> text, a page's Locale.t or
    a catalog's lookup): {item} and {items} (one input, several), {items_title} (a table row's label),
    {rate} (throughput: FPS for images, sequences/s ...) and {answers} (what parity compares: raw
    outputs and detections, top classes, ...)."""
    noun = f"noun.{vocab.item}"
    return {
        "item": message(f"{noun}.one"),
        "items": message(f"{noun}.many"),
        "items_title": message(f"{noun}.title"),
        "rate": message(f"{noun}.rate"),
        "answers": message(f"answers.{vocab.answers}"),
    }


# The placeholders fill() adds to a finding whose params carry the code of its inputs ("item").
FILLED = frozenset({"items"})


def fill(params: Mapping[str, object], message: Callable[[str], str]) -> dict[str, object]:
    """Return a finding's params with its nouns in one language: a rule stores the code of its inputs
    (``item="sequence"``, JSON-safe), its texts say {item} or {items}."""
    item = params.get("item")
    if item not in ("image", "sequence", "sample"):
        return dict(params)
    return {**params, "item": message(f"noun.{item}.one"), "items": message(f"noun.{item}.many")}
