"""In-place activations (archlab.nn.build): which layers, bitwise-equal outputs, and where it must not happen."""

import pytest
import torch

import archlab
from archlab.nn.build import build_plan, inplace_layers

RESIDUAL = """
name: r
input: [8, 8]
defaults: {norm: bn, act: relu}
rows:
  - {type: conv, c: 8, k: 3, s: 1}
  - {type: conv, c: 8, k: 3, s: 1}
head: {pool: gap, classifier: {classes: 4}}
"""


@pytest.mark.parametrize("net", ["mobilenetv2", "mobilefacenet-tf", "mobilenetv3-small", "xception"])
def test_outputs_are_bitwise_equal(net, single_threaded_torch):
    torch.manual_seed(0)
    a = archlab.build(net, inplace=False).eval()
    b = archlab.build(net).eval()
    b.load_state_dict(a.state_dict())
    x = torch.randn(1, *a.plan.input)
    with torch.inference_mode():
        ya, yb = a(x), b(x)
    ya, yb = (ya, yb) if isinstance(ya, tuple) else ((ya,), (yb,))
    assert all(torch.equal(u, v) for u, v in zip(ya, yb))


def test_which_layers_run_in_place():
    plan = archlab.plan("mobilenetv2")
    assert inplace_layers(plan) == {layer.name for layer in plan.layers if layer.op == "act"}  # all 35 ReLU6
    m = build_plan(plan, inplace=True)
    assert all(m.get_submodule(n).inplace for n in inplace_layers(plan))
    assert not any(getattr(m, "inplace", False) for m in build_plan(plan).modules())  # off by default
    # xception: a ReLU that reads a block input also read by the skip branch must not overwrite it
    xp = archlab.plan("xception")
    readers = {}
    for layer in xp.layers:
        for s in layer.inputs:
            readers[s] = readers.get(s, 0) + 1
    shared = [la.name for la in xp.layers if la.op == "act" and readers.get(la.inputs[0], 0) > 1]
    assert shared and not set(shared) & inplace_layers(xp)


def test_never_over_a_network_output_the_input_or_through_a_view(write_table):
    import dataclasses

    plan = archlab.plan(write_table(RESIDUAL))
    acts = [layer for layer in plan.layers if layer.op == "act"]
    assert {a.name for a in acts} == inplace_layers(plan)
    # make the second conv's BN output a network output: the ReLU reading it must not overwrite it
    bn = acts[1].inputs[0]
    tapped = dataclasses.replace(plan, outputs=(*plan.outputs, bn))
    assert acts[1].name not in inplace_layers(tapped) and acts[0].name in inplace_layers(tapped)
    m = build_plan(tapped, inplace=True).eval()
    x = torch.randn(1, *plan.input)
    with torch.inference_mode():
        outs = m(x)
        ref = build_plan(tapped).eval()
        ref.load_state_dict(m.state_dict())
        assert all(torch.equal(u, v) for u, v in zip(outs, ref(x)))


def test_api_build_defaults_to_inplace_and_pytorch_trains_through_it():
    m = archlab.build("mobilenetv2", width=0.35, input="32x32")
    assert any(getattr(x, "inplace", False) for x in m.modules())
    x = torch.randn(2, 3, 32, 32)
    m(x).sum().backward()  # ReLU6 in place after BN: autograd is fine with it
    assert all(p.grad is not None for p in m.parameters() if p.requires_grad)
