"""model.outputs: which output plays which role in the task, and which ones the parity verdict judges.

Hugging Face models return several outputs (``logits``, ``pred_boxes``, ``last_hidden_state``, auxiliary
heads); Ultralytics exports ``output0`` and ``output1``. The task code reads its outputs by role, with
defaults for those common names (measure/tasks/), so most configs never set this key; it names the
outputs of other layouts and leaves out of the verdict the ones nobody deploys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from reportgen.config.words import Expect

# The roles an output can play, with what each means (the docs and error messages quote these).
ROLES = {
    "logits": "class scores: per image (classification), per query with a last no-object class "
    "(set_detection: DETR, YOLOS; softmax) or per pixel (semantic_segmentation)",
    "sigmoid_logits": "set_detection: per-query class scores without a no-object class (RT-DETR, "
    "Deformable DETR; sigmoid)",
    "boxes": "set_detection: per-query boxes, normalized (cx, cy, w, h)",
    "detections": "detection, segmentation: Ultralytics' output0 (boxes, class scores, mask coefficients)",
    "prototypes": "segmentation: Ultralytics' output1 (mask prototypes)",
    "judged": "no role in the task; compared, and part of the parity verdict (any output not named here)",
    "shown": "no role in the task; compared and shown, but not part of the parity verdict",
}

if TYPE_CHECKING:
    _Role = str
else:
    _Role = Literal[tuple(ROLES)]  # one of ROLES (a Literal built at run time: a str to mypy)
Role = Annotated[_Role, Expect(f"a role: {', '.join(ROLES)}")]

Outputs = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=200)], Role] | None,
    Expect(f"a mapping of output names to roles ({', '.join(ROLES)})"),
]

OUTPUTS = Field(
    None,
    max_length=256,
    description="Output name -> role: "
    + "; ".join(f"{role}: {meaning}" for role, meaning in ROLES.items())
    + ". null: the task's defaults (logits, pred_boxes; output0, output1); every other output is judged.",
)
