"""A small torch model file for the CLI tests of module sources (extract, weights map, --arg/--strict on the
analysis commands): written into the test's folder as ``small.py`` so it is imported as a user's file."""

from __future__ import annotations

from pathlib import Path

SMALL = """
import torch
from torch import nn


class Small(nn.Module):
    def __init__(self, width=8, classes=5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, 1, 1, groups=width, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.body(self.stem(x))), 1))


def small(width=8, classes=5):
    return Small(width, classes)


def raises():
    raise RuntimeError("no weights here")


def not_a_module():
    return 42
"""


def write_small(folder: Path) -> Path:
    """``folder/small.py`` (callables ``small``, ``raises``, ``not_a_module``) and ``folder/broken.py`` (does
    not import); returns small.py's path."""
    (folder / "broken.py").write_text("import archlab_no_such_package_xyz\n", encoding="utf-8")
    path = folder / "small.py"
    path.write_text(SMALL, encoding="utf-8")
    return path


def params_of(width: int = 8, classes: int = 5) -> int:
    """Small's trainable parameters, counted by hand: stem conv + BN, depthwise + BN, pointwise + BN, linear."""
    w = width
    return 27 * w + 2 * w + 9 * w + 2 * w + w * 2 * w + 4 * w + 2 * w * classes + classes
