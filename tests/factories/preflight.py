"""Small real models of the shapes that issue 20's mistakes need (tests/test_preflight.py)."""

import torch
from torch import nn


class KwargsTokens(nn.Module):
    """A Hugging Face-like forward: token ids through an embedding of 100 rows, named keywords and
    ``**kwargs`` that swallow anything else (BERT's ``token_types_ids`` case)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.embeddings = nn.Embedding(100, 8)
        self.token_types = nn.Embedding(2, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, **kwargs):
        hidden = self.embeddings(input_ids)
        if token_type_ids is not None:
            hidden = hidden + self.token_types(token_type_ids)
        if attention_mask is not None:
            hidden = hidden * attention_mask.unsqueeze(-1).to(hidden.dtype)
        return {"logits": self.head(hidden.mean(1))}


def kwargs_tokens() -> nn.Module:
    return KwargsTokens().eval()


def unloadable() -> nn.Module:
    """A factory that fails as a missing weights file does: the run still writes results and report."""
    raise FileNotFoundError("weights/model.pt: no such file (the factory loads it itself)")
