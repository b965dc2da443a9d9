"""The reference models (tests/reference_models) have torchvision's / InsightFace's exact sizes and layouts.

They stand in for third-party code in other tests, so their figures must be the originals':
trainable params, fvcore conv + linear MAdds, output shape, and a few state_dict keys/shapes.
"""

import pytest
import torch

import archlab
from tests.reference_models import SPECS
from tests.reference_models.insightface_style import ARCFACE_MBF_PARAMS, ARCFACE_MBF_TOTAL, arcface_mbf
from tests.reference_models.measure import measure, param_count

pytestmark = pytest.mark.usefixtures("single_threaded_torch")


FAST_MEASURES = ("insightface_mobilefacenet", "mobilenet_v3_small")  # the rest (fvcore on ResNet-50...): slow lane


@pytest.mark.parametrize("name", [n if n in FAST_MEASURES else pytest.param(n, marks=pytest.mark.slow) for n in SPECS])
def test_params_madds_and_output_shape(name):
    spec = SPECS[name]
    torch.manual_seed(0)
    got = measure(spec.build(), spec.input)
    assert (got["params"], got["madds"], got["output"]) == (spec.params, spec.madds, spec.output), got["by_operator"]


# (model, state_dict key, shape): spots that pin the original layouts (names, nesting, widths, groups)
LAYOUT = [
    ("resnet18", "conv1.weight", (64, 3, 7, 7)),
    ("resnet18", "layer2.0.downsample.0.weight", (128, 64, 1, 1)),
    ("resnet50", "layer1.0.downsample.1.running_var", (256,)),
    ("resnet50", "layer4.2.conv3.weight", (2048, 512, 1, 1)),
    ("mobilenet_v2", "features.0.1.weight", (32,)),
    ("mobilenet_v2", "features.1.conv.1.weight", (16, 32, 1, 1)),
    ("mobilenet_v2", "features.2.conv.1.0.weight", (96, 1, 3, 3)),
    ("mobilenet_v2", "features.18.0.weight", (1280, 320, 1, 1)),
    ("mobilenet_v2", "classifier.1.weight", (1000, 1280)),
    ("mobilenet_v3_large", "features.4.block.2.fc1.weight", (24, 72, 1, 1)),
    ("mobilenet_v3_large", "features.4.block.2.fc1.bias", (24,)),
    ("mobilenet_v3_large", "features.16.0.weight", (960, 160, 1, 1)),
    ("mobilenet_v3_large", "classifier.3.weight", (1000, 1280)),
    ("mobilenet_v3_small", "features.1.block.1.fc2.weight", (16, 8, 1, 1)),
    ("mobilenet_v3_small", "classifier.0.weight", (1024, 576)),
    ("shufflenet_v2_x1_0", "stage2.0.branch1.0.weight", (24, 1, 3, 3)),
    ("shufflenet_v2_x1_0", "stage2.1.branch2.0.weight", (58, 58, 1, 1)),
    ("shufflenet_v2_x1_0", "conv5.0.weight", (1024, 464, 1, 1)),
    ("shufflenet_v2_x0_5", "stage4.3.branch2.5.weight", (96, 96, 1, 1)),
    ("efficientnet_b0", "features.1.0.block.1.fc1.weight", (8, 32, 1, 1)),
    ("efficientnet_b0", "features.2.0.block.2.fc1.weight", (4, 96, 1, 1)),
    ("efficientnet_b0", "features.8.0.weight", (1280, 320, 1, 1)),
    ("efficientnet_b0", "classifier.1.weight", (1000, 1280)),
    ("mnasnet1_0", "layers.6.weight", (16, 32, 1, 1)),
    ("mnasnet1_0", "layers.8.0.layers.0.weight", (48, 16, 1, 1)),
    ("mnasnet1_0", "layers.14.weight", (1280, 320, 1, 1)),
    ("regnet_x_400mf", "stem.0.weight", (32, 3, 3, 3)),
    ("regnet_x_400mf", "trunk_output.block1.block1-0.proj.0.weight", (32, 32, 1, 1)),
    ("regnet_x_400mf", "trunk_output.block4.block4-11.f.b.0.weight", (400, 16, 3, 3)),
    ("regnet_x_400mf", "fc.weight", (1000, 400)),
    ("squeezenet1_1", "features.12.expand3x3.weight", (256, 64, 3, 3)),
    ("squeezenet1_1", "classifier.1.weight", (1000, 512, 1, 1)),
    ("insightface_mobilefacenet", "conv_3.model.0.conv.conv.weight", (128, 64, 1, 1)),
    ("insightface_mobilefacenet", "conv_45.conv_dw.prelu.weight", (512,)),
    ("insightface_mobilefacenet", "conv_6_dw.conv.weight", (512, 1, 7, 7)),
    ("insightface_mobilefacenet", "linear.weight", (128, 512)),
    ("arcface_mbf", "layers.1.layers.0.weight", (128, 2, 3, 3)),
    ("arcface_mbf", "layers.3.layers.0.layers.0.layers.0.weight", (128, 128, 1, 1)),
    ("arcface_mbf", "conv_sep.layers.2.weight", (512,)),
    ("arcface_mbf", "features.layers.2.weight", (512, 512)),
    ("arcface_mbf", "features.layers.3.weight", (512,)),
    ("xception", "block1.skip.weight", (128, 64, 1, 1)),
    ("xception", "block1.rep.0.conv1.weight", (64, 1, 3, 3)),
    ("xception", "block12.rep.4.pointwise.weight", (1024, 728, 1, 1)),
    ("xception", "conv4.pointwise.weight", (2048, 1536, 1, 1)),
]


@pytest.fixture(scope="module")
def state_dicts():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = SPECS[name].build().state_dict()
        return cache[name]

    return get


@pytest.mark.parametrize("name, key, shape", LAYOUT, ids=[f"{m}:{k}" for m, k, _ in LAYOUT])
def test_state_dict_layout(state_dicts, name, key, shape):
    assert tuple(state_dicts(name)[key].shape) == shape


def test_first_keys_follow_registration_order(state_dicts):
    assert list(state_dicts("xception"))[:3] == ["conv1.weight", "bn1.weight", "bn1.bias"]
    assert list(state_dicts("regnet_x_400mf"))[5:7] == [
        "stem.1.num_batches_tracked",
        "trunk_output.block1.block1-0.proj.0.weight",
    ]
    block1 = [k for k in state_dicts("xception") if k.startswith("block1.")]
    assert block1[0] == "block1.skip.weight" and block1[6] == "block1.rep.0.conv1.weight"


def test_arcface_mbf_hand_derivation():
    model = arcface_mbf()
    assert {p: param_count(model.get_submodule(p)) for p in ARCFACE_MBF_PARAMS} == ARCFACE_MBF_PARAMS
    assert param_count(model) == ARCFACE_MBF_TOTAL == sum(ARCFACE_MBF_PARAMS.values())


def test_norm_hyperparameters():
    from tests.reference_models import mnasnet1_0, mobilenet_v3_small

    bn = mobilenet_v3_small().features[0][1]
    assert (bn.eps, bn.momentum) == (0.001, 0.01)
    assert mnasnet1_0().layers[1].momentum == pytest.approx(1 - 0.9997)


def test_efficientnet_stochastic_depth_ramps_to_0_2():
    from tests.reference_models import efficientnet_b0

    blocks = [b for stage in list(efficientnet_b0().features)[1:8] for b in stage]
    probs = [b.stochastic_depth.p for b in blocks]
    assert len(blocks) == 16 and probs[0] == 0.0 and probs[-1] == pytest.approx(0.2 * 15 / 16)


@pytest.mark.parametrize(
    "name, table",
    [
        ("insightface_mobilefacenet", "mobilefacenet"),
        ("xception", "xception"),
        ("mobilenet_v2", "mobilenetv2"),
        ("mobilenet_v3_large", "mobilenetv3-large"),
        ("mobilenet_v3_small", "mobilenetv3-small"),
    ],
)
def test_agrees_with_archlab_table(name, table):
    t = archlab.plan(table).totals()
    assert (t["params"], t["madds"]) == (SPECS[name].params, SPECS[name].madds)


@pytest.mark.parametrize("width, params", [(0.35, 1_677_128), (0.5, 1_968_680), (0.75, 2_636_424), (1.4, 6_108_776)])
def test_mobilenet_v2_width_multipliers(width, params):
    from tests.reference_models import mobilenet_v2

    assert param_count(mobilenet_v2(width)) == params  # same figures as archlab's mobilenetv2 table


def _load_example(filename):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "models" / filename
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "filename, function", [("resnet.py", "resnet18"), ("resnet.py", "resnet50"), ("mobilenetv2.py", "mobilenet_v2")]
)
def test_examples_have_the_reference_layout(state_dicts, filename, function):
    example = getattr(_load_example(filename), function)().state_dict()
    layout = [(k, tuple(v.shape)) for k, v in example.items()]
    assert layout == [(k, tuple(v.shape)) for k, v in state_dicts(function).items()]
