"""archlab.static.memory: output bytes, the liveness rule for peak activation memory, model bytes; the rule
against what the built module keeps alive (archlab.nn.memory_probe); memory in `archlab profile`.

Most tests run on the ``residual`` tiny table (tests/helpers/tables.py): conv 2 -> 4 (1x1), then one inverted
residual block (t=2) on a 4x4 map, no BN or activation. fp32 bytes: input 2x4x4 = 128 B, 0.0.conv 256,
1.0.expand 512, 1.0.dw 512, 1.0.project 256, 1.0.add 256.
"""

import json

import pytest

import archlab
from archlab.nn.build import build_plan
from archlab.nn.memory_probe import measure_peak
from archlab.static.memory import memory


@pytest.fixture
def tiny(tiny_table):
    return archlab.plan(tiny_table("residual"))


def test_liveness_rule_keeps_the_residual_input_alive(tiny):
    m = memory(tiny)
    # step by step (alive while the layer runs; freed after its last reader):
    #   0.0.conv    input 128 + conv 256                      =   384  (input freed)
    #   1.0.expand  conv 256 + expand 512                     =   768  (conv kept: the add reads it)
    #   1.0.dw      conv 256 + expand 512 + dw 512            = 1,280  (expand freed)
    #   1.0.project conv 256 + dw 512 + project 256           = 1,024  (dw freed)
    #   1.0.add     conv 256 + project 256 + add 256          =   768
    assert [l.live_bytes for l in m.layers] == [384, 768, 1280, 1024, 768]
    assert [l.out_bytes for l in m.layers] == [256, 512, 512, 256, 256]
    assert (m.peak_bytes, m.peak_layer, m.peak_tensors) == (1280, "1.0.dw", ("0.0.conv", "1.0.expand", "1.0.dw"))


def test_without_the_residual_the_peak_is_lower(tiny_table):
    # c: 6 != 4 input channels: no add, so 0.0.conv dies after the expansion reads it
    plan = archlab.plan(tiny_table("residual", replace={"c: 4, n: 1": "c: 6, n: 1"}))
    assert "1.0.add" not in [l.name for l in plan.layers]
    assert memory(plan).peak_bytes == 512 + 512  # expand + dw


def test_batch_input_held_and_model_bytes(tiny):
    assert memory(tiny, batch=3).peak_bytes == 3 * 1280
    assert memory(tiny, keep_input=True).peak_bytes == 1280 + 128
    # weights: conv 2*4 + expand 4*8 + depthwise 8*9 + project 8*4 = 144
    assert memory(tiny).model_bytes == {
        "fp32": {"params": 576, "params_deployed": 576},
        "fp16": {"params": 288, "params_deployed": 288},
        "int8": {"params": 144, "params_deployed": 144},
    }


def test_rule_matches_what_pytorch_keeps_alive(tiny):
    """The built module (fx: values dropped after their last use) holds exactly what the rule says."""
    assert measure_peak(build_plan(tiny), tiny) == memory(tiny, keep_input=True).peak_bytes == 1408
    for name, kw in (
        ("mobilefacenet", {"input": "56x56"}),
        ("mobilenetv2", {"input": "64x64"}),
        ("xception", {"input": "71x71"}),
    ):
        plan = archlab.plan(name, **kw)
        assert measure_peak(build_plan(plan).eval(), plan, 2) == memory(plan, 2, keep_input=True).peak_bytes


def test_mobilefacenet_peak_at_batch_1():
    m = memory(archlab.plan("mobilefacenet"))
    # the first bottleneck's 1x1 expansion to 128 channels at 56x56 and its BN output, both fp32
    assert m.peak_bytes == 2 * 128 * 56 * 56 * 4 == 3_211_264
    assert m.peak_layer == "2.0.expand_bn" and m.peak_tensors == ("2.0.expand", "2.0.expand_bn")
    assert m.model_bytes["fp32"]["params"] == 4 * 1_003_136
    assert m.model_bytes["int8"]["params_deployed"] == 993_344


def test_flatten_aliases_its_input(tiny_table):
    plan = archlab.plan(tiny_table("residual", head="{pool: gap}"))
    m = memory(plan)
    assert m.layer("head.gap.flatten").out_bytes == 0 and m.layer("head.gap.pool").out_bytes == 16


def test_profile_json_and_layer_table_carry_memory(cli, tiny_table):
    path = tiny_table("residual")
    r = cli("profile", path, "-f", "json")
    data = json.loads(r.stdout)
    assert data["memory"]["peak_bytes"] == 1280 and data["memory"]["peak_layer"] == "1.0.dw"
    assert [l["out_bytes"] for l in data["memory"]["layers"]] == [256, 512, 512, 256, 256]
    r = cli("profile", path, "--depth", "layer")
    assert "out_bytes" in r.stdout and "peak activation memory (fp32, batch 1): 1,280 B" in r.stdout
