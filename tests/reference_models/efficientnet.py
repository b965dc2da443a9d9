"""EfficientNet-B0 (Tan & Le 2019) in torchvision's layout.

Keys: ``features.0`` stem, ``features.1..7`` stages (Sequential of ``MBConv``, layers in
``.block``), ``features.8`` 1x1 head conv, ``avgpool``, ``classifier`` = (Dropout, Linear).
MBConv: [1x1 expand] -> kxk depthwise -> SE (squeeze = block *input* channels // 4, SiLU, sigmoid)
-> 1x1 projection, then stochastic depth on the residual branch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._blocks import ConvNormActivation, SqueezeExcitation, StochasticDepth, make_divisible


class MBConv(nn.Module):
    def __init__(
        self,
        expand_ratio: float,
        kernel: int,
        stride: int,
        input_channels: int,
        out_channels: int,
        stochastic_depth_prob: float,
        norm_layer=nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and input_channels == out_channels
        expanded = make_divisible(input_channels * expand_ratio, 8)
        layers: list[nn.Module] = []
        if expanded != input_channels:
            layers.append(
                ConvNormActivation(input_channels, expanded, 1, norm_layer=norm_layer, activation_layer=nn.SiLU)
            )
        layers.append(
            ConvNormActivation(
                expanded, expanded, kernel, stride, groups=expanded, norm_layer=norm_layer, activation_layer=nn.SiLU
            )
        )
        squeeze = max(1, input_channels // 4)
        layers.append(SqueezeExcitation(expanded, squeeze, activation=nn.SiLU))
        layers.append(ConvNormActivation(expanded, out_channels, 1, norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        if self.use_res_connect:
            y = self.stochastic_depth(y) + x
        return y


# expand_ratio, kernel, stride, input_channels, out_channels, num_layers (B0 baseline, paper Table 1)
B0_SETTING = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


class EfficientNet(nn.Module):
    def __init__(
        self,
        width_mult: float = 1.0,
        depth_mult: float = 1.0,
        dropout: float = 0.2,
        stochastic_depth_prob: float = 0.2,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        norm_layer = nn.BatchNorm2d
        setting = [
            (
                e,
                k,
                s,
                make_divisible(i * width_mult, 8),
                make_divisible(o * width_mult, 8),
                int(math.ceil(n * depth_mult)),
            )
            for e, k, s, i, o, n in B0_SETTING
        ]
        first = setting[0][3]
        layers: list[nn.Module] = [ConvNormActivation(3, first, 3, 2, norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total = sum(row[5] for row in setting)
        block_id = 0
        for expand, kernel, stride, cin, cout, n in setting:
            stage: list[nn.Module] = []
            for i in range(n):
                sd_prob = stochastic_depth_prob * float(block_id) / total
                stage.append(
                    MBConv(expand, kernel, stride if i == 0 else 1, cin if i == 0 else cout, cout, sd_prob, norm_layer)
                )
                block_id += 1
            layers.append(nn.Sequential(*stage))
        last_in = setting[-1][4]
        last_out = 4 * last_in
        layers.append(ConvNormActivation(last_in, last_out, 1, norm_layer=norm_layer, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                r = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -r, r)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def efficientnet_b0(num_classes: int = 1000) -> EfficientNet:
    """EfficientNet-B0; 5,288,548 params."""
    return EfficientNet(num_classes=num_classes)
