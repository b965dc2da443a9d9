"""All torchvision-layout reference models in one namespace (they live in one module per family)."""

from .efficientnet import efficientnet_b0
from .mnasnet import mnasnet1_0
from .mobilenet import mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small
from .regnet import regnet_x_400mf
from .resnet import resnet18, resnet50
from .shufflenet import shufflenet_v2_x0_5, shufflenet_v2_x1_0
from .squeezenet import squeezenet1_1

__all__ = [
    "efficientnet_b0",
    "mnasnet1_0",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "regnet_x_400mf",
    "resnet18",
    "resnet50",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "squeezenet1_1",
]
