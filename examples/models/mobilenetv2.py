"""MobileNetV2 as plain PyTorch, for trying `archlab profile` on your own nn.Module.

    archlab profile examples/models/mobilenetv2.py:mobilenet_v2 --input 224x224

Module names match torchvision's (`features.N`, blocks keep their layers in `.conv`,
`classifier` = Dropout + Linear), so torchvision's weights load with `load_state_dict`.
Needs nothing but torch. Width 1.0: 3,504,872 params, 300.8 M multiply-adds at 224x224
(archlab's shipped `mobilenetv2` table gives the same figures).
"""

import torch
from torch import nn


def conv_bn_relu6(cin, cout, kernel=3, stride=1, groups=1):
    """conv -> BN -> ReLU6 as one Sequential (keys .0 .1 .2, like torchvision's Conv2dNormActivation)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


def round8(channels):
    """Round to a multiple of 8, never dropping more than 10% (the MobileNet rule)."""
    rounded = max(8, int(channels + 4) // 8 * 8)
    return rounded + 8 if rounded < 0.9 * channels else rounded


class InvertedResidual(nn.Module):
    """1x1 expand (skipped when t == 1) -> 3x3 depthwise -> 1x1 linear projection, + input when shapes match."""

    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = [conv_bn_relu6(cin, hidden, 1)] if t != 1 else []
        layers += [
            conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    # expansion t, output channels c, repeats n, first stride s (paper Table 2)
    SETTING = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]

    def __init__(self, width_mult=1.0, num_classes=1000):
        super().__init__()
        cin = round8(32 * width_mult)
        last = round8(1280 * max(1.0, width_mult))
        layers = [conv_bn_relu6(3, cin, 3, 2)]
        for t, c, n, s in self.SETTING:
            cout = round8(c * width_mult)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        layers.append(conv_bn_relu6(cin, last, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, num_classes))

    def forward(self, x):
        x = self.features(x).mean([2, 3])
        return self.classifier(x)


def mobilenet_v2(width_mult=1.0, num_classes=1000):
    return MobileNetV2(width_mult, num_classes)


if __name__ == "__main__":
    model = mobilenet_v2().eval()
    out = model(torch.randn(1, 3, 224, 224))
    print(f"mobilenet_v2: {sum(p.numel() for p in model.parameters()):,} params, output {tuple(out.shape)}")
