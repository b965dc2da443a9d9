"""Xception (Chollet 2017) in the layout of the Cadene/tstandley PyTorch port of the Keras weights.

Keys: ``conv1 bn1 conv2 bn2 block1..block12 conv3 bn3 conv4 bn4 fc``. A ``Block`` registers
``skip``/``skipbn`` (1x1 strided conv + BN, only when shape changes) before ``rep``, a Sequential
of ReLU / SeparableConv2d / BN triples (+ a 3x3 stride-2 max-pool in the strided blocks).
``SeparableConv2d`` = ``conv1`` (depthwise) then ``pointwise``; no biases anywhere but ``fc``.
Input 299x299. 22,855,952 params (paper Table 3 and archlab's ``xception`` table).
"""

from __future__ import annotations

import torch
from torch import nn


class SeparableConv2d(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, in_channels, kernel_size, stride, padding, dilation, groups=in_channels, bias=bias
        )
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, 1, 0, 1, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.conv1(x))


class Block(nn.Module):
    def __init__(
        self,
        in_filters: int,
        out_filters: int,
        reps: int,
        strides: int = 1,
        start_with_relu: bool = True,
        grow_first: bool = True,
    ) -> None:
        super().__init__()
        if out_filters != in_filters or strides != 1:
            self.skip = nn.Conv2d(in_filters, out_filters, 1, stride=strides, bias=False)
            self.skipbn = nn.BatchNorm2d(out_filters)
        else:
            self.skip = None
        self.relu = nn.ReLU(inplace=True)
        # (in, out) of each separable conv; the width changes at the first one (grow_first) or the last
        widths = []
        c = in_filters
        if grow_first:
            widths.append((in_filters, out_filters))
            c = out_filters
        widths += [(c, c)] * (reps - 1)
        if not grow_first:
            widths.append((in_filters, out_filters))
        rep: list[nn.Module] = []
        for cin, cout in widths:
            rep += [nn.ReLU(inplace=True), SeparableConv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout)]
        if start_with_relu:
            rep[0] = nn.ReLU(inplace=False)  # the block input is reused by the shortcut
        else:
            rep = rep[1:]
        if strides != 1:
            rep.append(nn.MaxPool2d(3, strides, 1))
        self.rep = nn.Sequential(*rep)

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = self.rep(inp)
        skip = inp if self.skip is None else self.skipbn(self.skip(inp))
        return x + skip


class Xception(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.conv1 = nn.Conv2d(3, 32, 3, 2, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(32, 64, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        # entry flow
        self.block1 = Block(64, 128, 2, 2, start_with_relu=False, grow_first=True)
        self.block2 = Block(128, 256, 2, 2)
        self.block3 = Block(256, 728, 2, 2)
        # middle flow: block4 .. block11
        for i in range(4, 12):
            setattr(self, f"block{i}", Block(728, 728, 3, 1))
        # exit flow
        self.block12 = Block(728, 1024, 2, 2, start_with_relu=True, grow_first=False)
        self.conv3 = SeparableConv2d(1024, 1536, 3, 1, 1)
        self.bn3 = nn.BatchNorm2d(1536)
        self.conv4 = SeparableConv2d(1536, 2048, 3, 1, 1)
        self.bn4 = nn.BatchNorm2d(2048)
        self.fc = nn.Linear(2048, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        for i in range(1, 13):
            x = getattr(self, f"block{i}")(x)
        x = self.relu(self.bn3(self.conv3(x)))
        return self.bn4(self.conv4(x))

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.relu(features), (1, 1))
        return self.fc(x.view(x.size(0), -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(self.features(x))


def xception(num_classes: int = 1000) -> Xception:
    """Xception; 22,855,952 params."""
    return Xception(num_classes)
