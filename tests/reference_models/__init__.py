"""Reference PyTorch models: stand-ins for third-party code (torchvision, InsightFace, an Xception port).

Each constructor builds a plain ``nn.Module`` from standard torch.nn layers whose state_dict has
the same keys, order and shapes as the original project's model. ``SPECS`` lists, per model, the
input size, output shape and the exact figures the tests check: trainable parameters and
conv + linear multiply-adds as fvcore counts them (one per MAC, bias adds excluded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from .insightface_style import arcface_mbf, insightface_mobilefacenet
from .torchvision_style import (
    efficientnet_b0,
    mnasnet1_0,
    mobilenet_v2,
    mobilenet_v3_large,
    mobilenet_v3_small,
    regnet_x_400mf,
    resnet18,
    resnet50,
    shufflenet_v2_x0_5,
    shufflenet_v2_x1_0,
    squeezenet1_1,
)
from .xception import xception


@dataclass(frozen=True)
class Spec:
    build: Callable[[], nn.Module]
    input: int  # square input side
    params: int  # sum(p.numel() for p in model.parameters())
    madds: int  # fvcore conv + linear (addmm) entries at `input`; the two face models' figures
    # are what fvcore measures (mobilefacenet's equals archlab's table, 220,965,376)
    output: tuple  # output shape for a batch of 1


SPECS: dict[str, Spec] = {
    "resnet18": Spec(resnet18, 224, 11_689_512, 1_814_073_344, (1, 1000)),
    "resnet50": Spec(resnet50, 224, 25_557_032, 4_089_184_256, (1, 1000)),
    "mobilenet_v2": Spec(mobilenet_v2, 224, 3_504_872, 300_774_272, (1, 1000)),
    "mobilenet_v3_large": Spec(mobilenet_v3_large, 224, 5_483_032, 216_589_760, (1, 1000)),
    "mobilenet_v3_small": Spec(mobilenet_v3_small, 224, 2_542_856, 56_510_400, (1, 1000)),
    "shufflenet_v2_x1_0": Spec(shufflenet_v2_x1_0, 224, 2_278_604, 144_907_992, (1, 1000)),
    "shufflenet_v2_x0_5": Spec(shufflenet_v2_x0_5, 224, 1_366_792, 40_476_448, (1, 1000)),
    "efficientnet_b0": Spec(efficientnet_b0, 224, 5_288_548, 385_814_752, (1, 1000)),
    "mnasnet1_0": Spec(mnasnet1_0, 224, 4_383_312, 314_415_872, (1, 1000)),
    "regnet_x_400mf": Spec(regnet_x_400mf, 224, 5_495_976, 413_812_608, (1, 1000)),
    "squeezenet1_1": Spec(squeezenet1_1, 224, 1_235_496, 349_151_936, (1, 1000)),
    "insightface_mobilefacenet": Spec(insightface_mobilefacenet, 112, 1_003_136, 220_965_376, (1, 128)),
    "arcface_mbf": Spec(arcface_mbf, 112, 2_059_520, 437_520_896, (1, 512)),
    "xception": Spec(xception, 299, 22_855_952, 8_357_403_496, (1, 1000)),
}

__all__ = ["SPECS", "Spec", *sorted(SPECS)]
