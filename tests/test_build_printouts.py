"""archlab.nn.build against published module printouts: the built networks' leaf layers, in order.

tests/data/printouts/*.txt hold the module lines extracted from the printouts (tests/helpers/printouts.py
parses them): MobileFaceNet(512) from InsightFace_Pytorch, Xception, and MobileNetV2 as the SSD base net.
"""

import pytest

import archlab
from tests.helpers.printouts import leaves, read_printout


@pytest.mark.parametrize(
    "net_name, fixture, kw, keep",
    [
        ("mobilefacenet", "mobilefacenet.txt", {"embedding": 512}, None),  # the printout is MobileFaceNet(512)
        ("xception", "xception.txt", {}, None),
        ("mobilenetv2", "mobilenetv2-base.txt", {"input": "300x300"}, lambda n: not n.startswith("head")),
    ],
)
def test_leaf_layers_match_printout(net_name, fixture, kw, keep):
    expected = read_printout(fixture)
    got = leaves(archlab.build(net_name, **kw), keep)
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g == e, f"leaf {i}: built {g} != printout {e}"


def test_module_paths_equal_plan_names():
    net = archlab.build("mobilefacenet")
    plan = archlab.plan("mobilefacenet")
    leaf_names = [n for n, m in net.named_modules() if n and not list(m.children())]
    assert leaf_names == [l.name for l in plan.layers]
