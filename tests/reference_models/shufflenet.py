"""ShuffleNetV2 (Ma et al. 2018) in torchvision's layout.

Keys: ``conv1 stage2 stage3 stage4 conv5 fc``. Each unit is an ``InvertedResidual`` with
``branch1`` (empty Sequential for stride-1 units) and ``branch2``; stride-1 units split the
channels in half, and every unit ends with a channel shuffle of 2 groups.
"""

from __future__ import annotations

import torch
from torch import nn


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    x = x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous()
    return x.view(n, c, h, w)


def _dw(channels: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, 3, stride, 1, groups=channels, bias=False)


def _pw(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 1, 1, 0, bias=False)


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError("stride must be 1 or 2")
        self.stride = stride
        branch = oup // 2
        if stride == 1 and inp != 2 * branch:
            raise ValueError("a stride-1 unit needs inp == oup")
        if stride > 1:
            self.branch1 = nn.Sequential(
                _dw(inp, stride), nn.BatchNorm2d(inp), _pw(inp, branch), nn.BatchNorm2d(branch), nn.ReLU(inplace=True)
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            _pw(inp if stride > 1 else branch, branch),
            nn.BatchNorm2d(branch),
            nn.ReLU(inplace=True),
            _dw(branch, stride),
            nn.BatchNorm2d(branch),
            _pw(branch, branch),
            nn.BatchNorm2d(branch),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            a, b = x.chunk(2, dim=1)
            out = torch.cat((a, self.branch2(b)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, stages_repeats: list[int], stages_out_channels: list[int], num_classes: int = 1000) -> None:
        super().__init__()
        self._stage_out_channels = stages_out_channels
        cin, cout = 3, stages_out_channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
        )
        cin = cout
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        for name, repeats, cout in zip(("stage2", "stage3", "stage4"), stages_repeats, stages_out_channels[1:]):
            units = [InvertedResidual(cin, cout, 2)] + [InvertedResidual(cout, cout, 1) for _ in range(repeats - 1)]
            setattr(self, name, nn.Sequential(*units))
            cin = cout
        cout = stages_out_channels[-1]
        self.conv5 = nn.Sequential(
            nn.Conv2d(cin, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
        )
        self.fc = nn.Linear(cout, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        x = self.conv5(x).mean([2, 3])
        return self.fc(x)


def shufflenet_v2_x1_0(num_classes: int = 1000) -> ShuffleNetV2:
    """ShuffleNetV2 1.0x; 2,278,604 params."""
    return ShuffleNetV2([4, 8, 4], [24, 116, 232, 464, 1024], num_classes)


def shufflenet_v2_x0_5(num_classes: int = 1000) -> ShuffleNetV2:
    """ShuffleNetV2 0.5x; 1,366,792 params."""
    return ShuffleNetV2([4, 8, 4], [24, 48, 96, 192, 1024], num_classes)
