"""SSDLite-MobileNetV2: a tap inside the base net, twelve outputs (the detection heads), the paper's Table 6
setting, the built module's outputs, its leaf layers against the printout, and the RF of every head."""

import json

import archlab
from tests.helpers.printouts import leaves, read_printout


def test_ssdlite_leaf_layers_match_printout():
    expected = read_printout("ssdlite-mobilenetv2.txt")
    got = leaves(archlab.build("ssdlite-mobilenetv2", classes=4))
    assert got == expected


def test_ssdlite_taps_and_outputs():
    p = archlab.plan("ssdlite-mobilenetv2")
    assert p.layer("6.0.expand_act").out_shape == (576, 19, 19)  # the tap inside block 13 of the base
    assert p.layer("13.0.dw").inputs == ("6.0.expand_act",)
    shapes = [p.layer(o).out_shape for o in p.outputs]
    assert [s[1:] for s in shapes[:6]] == [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]
    assert all(s[0] == 6 * 21 for s in shapes[:6]) and all(s[0] == 24 for s in shapes[6:])


def test_ssdlite_table6_setting():
    t = archlab.plan("ssdlite-mobilenetv2", classes=81, input="320x320").totals()
    assert (t["params"], t["madds"]) == (4_450_228, 847_543_104)


def test_ssdlite_forward_returns_every_output():
    import torch

    net = archlab.build("ssdlite-mobilenetv2", classes=4, input="96x96").eval()
    with torch.no_grad():
        ys = net(torch.randn(1, 3, 96, 96))
    plan = archlab.plan("ssdlite-mobilenetv2", classes=4, input="96x96")
    assert [tuple(y.shape[1:]) for y in ys] == [plan.layer(o).out_shape for o in plan.outputs]


def test_rf_of_each_detection_head(cli):
    d = json.loads(cli("rf", "ssdlite-mobilenetv2", "-f", "json").stdout)
    outs = {o["name"]: o for o in d["outputs"]}
    assert len(outs) == 12
    # map 1 is the tap 6.0.expand_act (19x19, jump 16) seen through the head's 3x3 depthwise: RF grows by 2 x 16
    assert outs["13.0.pw"]["rf"]["jump"] == [16, 16] and outs["13.0.pw"]["shape"] == [126, 19, 19]
    tap = json.loads(cli("profile", "ssdlite-mobilenetv2", "--depth", "layer", "-f", "json").stdout)
    tap_rf = next(l for l in tap["layers"] if l["name"] == "6.0.expand_act")["rf"]["size"][0]
    assert outs["13.0.pw"]["rf"]["size"] == [tap_rf + 2 * 16] * 2
    assert outs["18.0.pw"]["rf"]["jump"] == [512, 512]  # 1x1 map after four stride-2 extras (32 x 16)
    assert [o["name"] for o in tap["outputs"]] == list(outs)
