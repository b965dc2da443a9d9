"""Face-embedding backbones in the layouts of two InsightFace code bases.

* ``insightface_mobilefacenet`` -- TreB1eN/InsightFace_Pytorch ``MobileFaceNet`` (flat attributes
  conv1 ... conv_6_sep, conv_6_dw, conv_6_flatten, linear, bn). It is the paper's Table 1 network
  and has exactly the parameters of archlab's shipped ``mobilefacenet`` table (1,003,136 with a
  128-d embedding).
* ``arcface_mbf`` -- deepinsight/insightface ``recognition/arcface_torch`` ``get_mbf`` backbone
  (``layers`` ModuleList, every block wraps its layers in a ``.layers`` Sequential, ``conv_sep``,
  ``features`` = GDC). It is a *wider* MobileFaceNet ("scale=2": 128/256 channels instead of 64/128)
  with a 512-d embedding by default.

Both take 112x112 RGB faces. Convs have no bias; every BN is followed by PReLU except in the
linear (projection) blocks.

Parameter count of ``arcface_mbf(num_features=512, blocks=(1, 4, 6, 2), scale=2)``, by hand
----------------------------------------------------------------------------------------
Convention: conv weight = out * (in / groups) * k * k; BN = 2 * C (gamma, beta; running stats are
buffers); PReLU = C. ConvBlock = conv + BN + PReLU = w + 3C; LinearBlock = conv + BN = w + 2C.
DepthWise(in, out, g) = ConvBlock 1x1 in->g, ConvBlock 3x3 depthwise g, LinearBlock 1x1 g->out.

============  =========================================  ========================================  =========
module        what                                       per-block arithmetic                      params
============  =========================================  ========================================  =========
layers.0      ConvBlock 3->128, 3x3 s2                   3456 + 384                                    3,840
layers.1      ConvBlock 128->128, 3x3, groups=64         128*2*9 = 2304, + 384                         2,688
layers.2      DepthWise 128->128, g=128, s2              (16384+384) + (1152+384) + (16384+256)       34,944
layers.3      Residual 4 x DepthWise 128->128, g=128     4 * 34,944                                  139,776
layers.4      DepthWise 128->256, g=256, s2              (32768+768) + (2304+768) + (65536+512)      102,656
layers.5      Residual 6 x DepthWise 256->256, g=256     6 * [(65536+768) + (2304+768) + 66048]      812,544
layers.6      DepthWise 256->256, g=512, s2              (131072+1536) + (4608+1536) + (131072+512)  270,336
layers.7      Residual 2 x DepthWise 256->256, g=256     2 * 135,424                                 270,848
conv_sep      ConvBlock 256->512, 1x1                    131072 + 1536                               132,608
features      GDC: LinearBlock 512 dw 7x7                25088 + 1024                                 26,112
              Linear 512->512 (no bias)                  262144                                      262,144
              BatchNorm1d(512)                           1024                                          1,024
**total**                                                                                          **2,059,520**
============  =========================================  ========================================  =========

Note the "expansion" 1x1 ConvBlock is kept even where its width equals the input width
(layers.2/3: 128->128, layers.5/7: 256->256), and the stem's second conv is grouped (64 groups of
2 channels), not depthwise.
"""

from __future__ import annotations

import torch
from torch import nn


class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.size(0), -1)


def l2_norm(x: torch.Tensor, axis: int = 1) -> torch.Tensor:
    return x / torch.norm(x, 2, axis, True)


# ------------------------------------------------------------ TreB1eN/InsightFace_Pytorch layout


class Conv_block(nn.Module):  # noqa: N801 (the original's class name)
    def __init__(self, in_c: int, out_c: int, kernel=(1, 1), stride=(1, 1), padding=(0, 0), groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_c)
        self.prelu = nn.PReLU(out_c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.prelu(self.bn(self.conv(x)))


class Linear_block(nn.Module):  # noqa: N801
    def __init__(self, in_c: int, out_c: int, kernel=(1, 1), stride=(1, 1), padding=(0, 0), groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class Depth_Wise(nn.Module):  # noqa: N801
    """1x1 expand to ``groups`` channels -> depthwise kxk -> 1x1 linear projection (+ identity)."""

    def __init__(
        self,
        in_c: int,
        out_c: int,
        residual: bool = False,
        kernel=(3, 3),
        stride=(2, 2),
        padding=(1, 1),
        groups: int = 1,
    ) -> None:
        super().__init__()
        self.conv = Conv_block(in_c, groups, (1, 1), (1, 1), (0, 0))
        self.conv_dw = Conv_block(groups, groups, kernel, stride, padding, groups=groups)
        self.project = Linear_block(groups, out_c, (1, 1), (1, 1), (0, 0))
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.conv_dw(self.conv(x)))
        return x + y if self.residual else y


class Residual(nn.Module):
    def __init__(self, c: int, num_block: int, groups: int, kernel=(3, 3), stride=(1, 1), padding=(1, 1)) -> None:
        super().__init__()
        self.model = nn.Sequential(*[Depth_Wise(c, c, True, kernel, stride, padding, groups) for _ in range(num_block)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class MobileFaceNet(nn.Module):
    """MobileFaceNet (Chen et al. 2018, Table 1): 112x112 -> 7x7x512 -> GDConv -> embedding."""

    def __init__(self, embedding_size: int = 128) -> None:
        super().__init__()
        k3, s1, s2, p1 = (3, 3), (1, 1), (2, 2), (1, 1)
        self.conv1 = Conv_block(3, 64, k3, s2, p1)
        self.conv2_dw = Conv_block(64, 64, k3, s1, p1, groups=64)
        self.conv_23 = Depth_Wise(64, 64, kernel=k3, stride=s2, padding=p1, groups=128)
        self.conv_3 = Residual(64, num_block=4, groups=128)
        self.conv_34 = Depth_Wise(64, 128, kernel=k3, stride=s2, padding=p1, groups=256)
        self.conv_4 = Residual(128, num_block=6, groups=256)
        self.conv_45 = Depth_Wise(128, 128, kernel=k3, stride=s2, padding=p1, groups=512)
        self.conv_5 = Residual(128, num_block=2, groups=256)
        self.conv_6_sep = Conv_block(128, 512, (1, 1), s1, (0, 0))
        self.conv_6_dw = Linear_block(512, 512, (7, 7), s1, (0, 0), groups=512)
        self.conv_6_flatten = Flatten()
        self.linear = nn.Linear(512, embedding_size, bias=False)
        self.bn = nn.BatchNorm1d(embedding_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in (
            "conv1",
            "conv2_dw",
            "conv_23",
            "conv_3",
            "conv_34",
            "conv_4",
            "conv_45",
            "conv_5",
            "conv_6_sep",
            "conv_6_dw",
            "conv_6_flatten",
            "linear",
            "bn",
        ):
            x = getattr(self, name)(x)
        return l2_norm(x)


def insightface_mobilefacenet(embedding_size: int = 128) -> MobileFaceNet:
    """TreB1eN-layout MobileFaceNet; 1,003,136 params at embedding 128 (= archlab ``mobilefacenet``)."""
    return MobileFaceNet(embedding_size)


# ------------------------------------------------------------ deepinsight arcface_torch layout


class ConvBlock(nn.Module):
    def __init__(self, in_c: int, out_c: int, kernel=(1, 1), stride=(1, 1), padding=(0, 0), groups: int = 1) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False),
            nn.BatchNorm2d(out_c),
            nn.PReLU(out_c),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class LinearBlock(nn.Module):
    def __init__(self, in_c: int, out_c: int, kernel=(1, 1), stride=(1, 1), padding=(0, 0), groups: int = 1) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False), nn.BatchNorm2d(out_c)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class DepthWise(nn.Module):
    def __init__(
        self,
        in_c: int,
        out_c: int,
        residual: bool = False,
        kernel=(3, 3),
        stride=(2, 2),
        padding=(1, 1),
        groups: int = 1,
    ) -> None:
        super().__init__()
        self.residual = residual
        self.layers = nn.Sequential(
            ConvBlock(in_c, groups),
            ConvBlock(groups, groups, kernel, stride, padding, groups=groups),
            LinearBlock(groups, out_c),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.layers(x)
        return x + y if self.residual else y


class ResidualStack(nn.Module):
    """arcface_torch's ``Residual``: ``num_block`` residual DepthWise blocks in ``.layers``."""

    def __init__(self, c: int, num_block: int, groups: int, kernel=(3, 3), stride=(1, 1), padding=(1, 1)) -> None:
        super().__init__()
        self.layers = nn.Sequential(*[DepthWise(c, c, True, kernel, stride, padding, groups) for _ in range(num_block)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class GDC(nn.Module):
    """Global depthwise 7x7 (linear) -> flatten -> Linear (no bias) -> BatchNorm1d."""

    def __init__(self, embedding_size: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            LinearBlock(512, 512, (7, 7), (1, 1), (0, 0), groups=512),
            Flatten(),
            nn.Linear(512, embedding_size, bias=False),
            nn.BatchNorm1d(embedding_size),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class ArcFaceMobileFaceNet(nn.Module):
    def __init__(self, num_features: int = 512, blocks=(1, 4, 6, 2), scale: int = 2, norm_output: bool = False) -> None:
        super().__init__()
        self.scale = scale
        self.norm_output = norm_output
        c1, c2 = 64 * scale, 128 * scale
        self.layers = nn.ModuleList()
        self.layers.append(ConvBlock(3, c1, (3, 3), (2, 2), (1, 1)))
        if blocks[0] == 1:
            self.layers.append(ConvBlock(c1, c1, (3, 3), (1, 1), (1, 1), groups=64))
        else:
            self.layers.append(ResidualStack(c1, blocks[0], groups=128))
        self.layers.extend(
            [
                DepthWise(c1, c1, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=128),
                ResidualStack(c1, blocks[1], groups=128),
                DepthWise(c1, c2, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=256),
                ResidualStack(c2, blocks[2], groups=256),
                DepthWise(c2, c2, kernel=(3, 3), stride=(2, 2), padding=(1, 1), groups=512),
                ResidualStack(c2, blocks[3], groups=256),
            ]
        )
        self.conv_sep = ConvBlock(c2, 512)
        self.features = GDC(num_features)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor):
        for layer in self.layers:
            x = layer(x)
        x = self.features(self.conv_sep(x))
        if self.norm_output:
            norm = torch.norm(x, 2, 1, True)
            return x / norm, norm
        return x


def arcface_mbf(num_features: int = 512, blocks=(1, 4, 6, 2), scale: int = 2) -> ArcFaceMobileFaceNet:
    """arcface_torch ``get_mbf`` backbone; 2,059,520 params at the defaults (derivation: module docstring)."""
    return ArcFaceMobileFaceNet(num_features, tuple(blocks), scale)


# The hand derivation above, per module, for the defaults; the tests assert it against the model.
ARCFACE_MBF_PARAMS = {
    "layers.0": 3_840,
    "layers.1": 2_688,
    "layers.2": 34_944,
    "layers.3": 139_776,
    "layers.4": 102_656,
    "layers.5": 812_544,
    "layers.6": 270_336,
    "layers.7": 270_848,
    "conv_sep": 132_608,
    "features": 289_280,
}
ARCFACE_MBF_TOTAL = 2_059_520
assert sum(ARCFACE_MBF_PARAMS.values()) == ARCFACE_MBF_TOTAL
