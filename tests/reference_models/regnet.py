"""RegNetX-400MF (Radosavovic et al. 2020) in torchvision's layout.

Keys: ``stem`` (conv-BN-ReLU), ``trunk_output.block{1..4}.block{s}-{i}``, ``fc``. Every block is a
``ResBottleneckBlock``: optional ``proj`` (1x1 conv + BN, no activation) when width or stride
changes, then ``f`` = BottleneckTransform with children ``a`` (1x1), ``b`` (3x3 grouped,
group width 16) and ``c`` (1x1, no activation). Bottleneck multiplier 1, no SE (X family).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

from ._blocks import ConvNormActivation


class BottleneckTransform(nn.Sequential):
    def __init__(
        self, width_in: int, width_out: int, stride: int, group_width: int, bottleneck_multiplier: float = 1.0
    ) -> None:
        w_b = int(round(width_out * bottleneck_multiplier))
        groups = w_b // group_width
        layers = OrderedDict(
            a=ConvNormActivation(width_in, w_b, 1, 1),
            b=ConvNormActivation(w_b, w_b, 3, stride, groups=groups),
            c=ConvNormActivation(w_b, width_out, 1, 1, activation_layer=None),
        )
        super().__init__(layers)


class ResBottleneckBlock(nn.Module):
    def __init__(
        self, width_in: int, width_out: int, stride: int, group_width: int = 1, bottleneck_multiplier: float = 1.0
    ) -> None:
        super().__init__()
        self.proj = None
        if width_in != width_out or stride != 1:
            self.proj = ConvNormActivation(width_in, width_out, 1, stride, activation_layer=None)
        self.f = BottleneckTransform(width_in, width_out, stride, group_width, bottleneck_multiplier)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        return self.activation(shortcut + self.f(x))


class AnyStage(nn.Sequential):
    def __init__(
        self,
        width_in: int,
        width_out: int,
        stride: int,
        depth: int,
        group_width: int,
        bottleneck_multiplier: float,
        stage_index: int,
    ) -> None:
        super().__init__()
        for i in range(depth):
            block = ResBottleneckBlock(
                width_in if i == 0 else width_out,
                width_out,
                stride if i == 0 else 1,
                group_width,
                bottleneck_multiplier,
            )
            self.add_module(f"block{stage_index}-{i}", block)


class RegNet(nn.Module):
    def __init__(
        self,
        widths: list[int],
        depths: list[int],
        group_width: int,
        stem_width: int = 32,
        bottleneck_multiplier: float = 1.0,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        self.stem = ConvNormActivation(3, stem_width, 3, 2)
        current = stem_width
        stages = []
        for i, (w, d) in enumerate(zip(widths, depths)):
            stages.append((f"block{i + 1}", AnyStage(current, w, 2, d, group_width, bottleneck_multiplier, i + 1)))
            current = w
        self.trunk_output = nn.Sequential(OrderedDict(stages))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(current, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, mean=0.0, std=math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.trunk_output(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


def regnet_x_400mf(num_classes: int = 1000) -> RegNet:
    """RegNetX-400MF: widths [32, 64, 160, 400], depths [1, 2, 7, 12], group width 16; 5,495,976 params.

    The widths/depths are what torchvision's quantised linear rule gives for
    depth=22, w_0=24, w_a=24.48, w_m=2.54 (already compatible with group width 16).
    """
    return RegNet([32, 64, 160, 400], [1, 2, 7, 12], group_width=16, num_classes=num_classes)
