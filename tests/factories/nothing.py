"""Small real models whose answers give nothing to agree on (issue 20: no verdict on nothing)."""

import torch
from torch import nn


class Constant(nn.Module):
    """Outputs that do not depend on the inputs: the same logits for every sample."""

    def __init__(self):
        super().__init__()
        self.logits = nn.Parameter(torch.tensor([[0.5, -1.0, 2.0]]))

    def forward(self, x):
        # x is read (the export keeps an input) but multiplied away: every sample gets the same row.
        return self.logits.expand(x.shape[0], 3) + 0.0 * x.flatten(1).sum(1, keepdim=True)


def constant() -> nn.Module:
    return Constant().eval()


def one_class() -> nn.Module:
    """A four-class classifier whose class 2 wins on every input (its probabilities still vary)."""
    from factories.models import tiny_classifier

    model = tiny_classifier()
    with torch.no_grad():
        model[-1].bias.copy_(torch.tensor([0.0, 0.0, 50.0, 0.0]))
    return model


def blind_detector() -> nn.Module:
    """The demo's detection architecture with every class score near 0 (sigmoid(-12)): it finds
    nothing on any image, as an untrained detector does."""
    from reportgen.demo.net import DemoSegNet

    torch.manual_seed(0)
    model = DemoSegNet()
    with torch.no_grad():
        for branch in model.cls:
            branch[-1].weight.zero_()
            branch[-1].bias.fill_(-12.0)
    return model.eval()


class NoLogits(nn.Module):
    """A classifier head of zero classes: its logits hold no value, so no class can be decoded."""

    def forward(self, x):
        return x.flatten(1)[:, :0]


def no_logits() -> nn.Module:
    return NoLogits().eval()


class Background(nn.Module):
    """A segmenter whose background class wins at every pixel of every image (its logits still vary)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.head = nn.Conv2d(3, 4, 3, 4, 1)
        with torch.no_grad():
            self.head.bias.copy_(torch.tensor([50.0, 0.0, 0.0, 0.0]))

    def forward(self, x):
        return {"logits": self.head(x)}


def background() -> nn.Module:
    return Background().eval()
