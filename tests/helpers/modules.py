"""Torch modules for the import tests: the reference models (BN statistics randomised, eval mode) and small
modules with ops archlab has no rule for (a custom autograd Function, torch.cumsum, torch.fft.rfft2)."""

from __future__ import annotations

import torch
from torch import nn

from archlab.nn.fold import randomize_bn
from archlab.nn.outputs import max_difference
from tests.reference_models import SPECS

# reference module -> the shipped table with the same network
SHIPPED = {
    "mobilenet_v2": "mobilenetv2",
    "mobilenet_v3_large": "mobilenetv3-large",
    "mobilenet_v3_small": "mobilenetv3-small",
    "insightface_mobilefacenet": "mobilefacenet",
    "xception": "xception",
}
ACCEPTANCE = (
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "insightface_mobilefacenet",
    "xception",
    "resnet18",
)


def reference(key: str, seed: int = 0) -> nn.Module:
    """A reference model in eval mode with randomised BN statistics (so weight mapping means something)."""
    torch.manual_seed(seed)
    module = SPECS[key].build().eval()
    randomize_bn(module, seed)
    return module


def hw(key: str) -> tuple[int, int]:
    return SPECS[key].input, SPECS[key].input


def relative_difference(a, b) -> float:
    diff, scale = max_difference(a, b)
    return diff / scale


def outputs(module: nn.Module, x: torch.Tensor):
    module.eval()
    with torch.no_grad():
        return module(x)


class Doubler(torch.autograd.Function):
    """A custom autograd Function: archlab has no rule for it."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


class Unruly(nn.Module):
    """conv -> a custom Function -> torch.cumsum -> rfft2 magnitude, added back: three ops without rules."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        y = self.bn(self.conv(x))
        y = Doubler.apply(y)
        y = torch.cumsum(y, 1)
        z = torch.fft.rfft2(y).abs()
        return y.mean((2, 3)) + z.mean((2, 3))


class Branchy(nn.Module):
    """Data-dependent control flow (fx cannot trace it): the hook walk traces the path this input takes."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.ReLU()
        self.wide = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.narrow = nn.Conv2d(8, 4, 1, bias=False)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        y = self.act(self.bn(self.stem(x)))
        y = self.wide(y) if y.sum() >= 0 else self.narrow(y)  # zeros in: the wide branch
        return self.fc(y.mean((2, 3)))
