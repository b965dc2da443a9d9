"""archlab.ir.expand: rows -> layers with ``from`` (taps), concat and several outputs, bad references, and
TensorFlow SAME padding (with mobilefacenet-tf, the TensorFlow MobileFaceNet that relies on it)."""

import json

import pytest

import archlab
from archlab.errors import TableError


def test_from_concat_and_outputs(write_table):
    import torch

    p = write_table("""
        name: branchy
        input: [16, 16]
        rows:
          - {type: conv, id: stem, c: 8, s: 2}
          - {type: conv, c: 4, k: 1}
          - {type: conv, from: stem, c: 6, k: 3}
          - {type: concat, from: [1, -1, 0.0.act]}
          - {type: conv, c: 5, k: 1, output: true}
          - {type: conv, from: 1, c: 3, k: 1, output: true}
    """)
    plan = archlab.plan(p)
    assert plan.layer("3.0.concat").out_shape == (18, 8, 8)
    assert plan.layer("3.0.concat").inputs == ("1.0.act", "2.0.act", "0.0.act")
    assert plan.outputs == ("4.0.act", "5.0.act")
    ys = archlab.build(p).eval()(torch.randn(2, 3, 16, 16))
    assert [tuple(y.shape) for y in ys] == [(2, 5, 8, 8), (2, 3, 8, 8)]


@pytest.mark.parametrize(
    "ref, needle", [(3, "not an earlier row"), ("nosuch", "unknown row id or layer name"), ([0], "at least two")]
)
def test_bad_from(write_table, ref, needle):
    rtype = "concat" if isinstance(ref, list) else "conv, c: 4"
    p = write_table(
        f"name: t\ninput: [8, 8]\nrows:\n  - {{type: conv, c: 4}}\n  - {{type: {rtype}, from: {json.dumps(ref)}}}\n"
    )
    with pytest.raises(TableError, match=needle) as e:
        archlab.plan(p)
    assert e.value.field == "from" and e.value.row == 1


@pytest.mark.parametrize("n, k, s", [(112, 3, 2), (56, 3, 1), (7, 3, 7), (15, 5, 2), (10, 2, 2), (9, 4, 3)])
def test_tensorflow_same_padding(write_table, n, k, s):
    import torch

    p = write_table(
        f"name: t\ninput: [{n}, {n}]\ndefaults: {{padding: same}}\nrows:\n  - {{type: conv, c: 2, k: {k}, s: {s}}}\n"
    )
    plan = archlab.plan(p)
    out = -(-n // s)  # TensorFlow SAME: ceil(n / s)
    assert plan.output_shape == (2, out, out)
    assert tuple(archlab.build(p).eval()(torch.randn(1, 3, n, n)).shape[1:]) == (2, out, out)
    total = max((out - 1) * s + k - n, 0)
    conv = plan.layer("0.0.conv")
    if total % 2:
        assert plan.layer("0.0.conv_pad").padding == (total // 2, total - total // 2, total // 2, total - total // 2)
    else:
        assert conv.padding == (total // 2, total // 2)


def test_mobilefacenet_tf_quirks():
    p = archlab.plan("mobilefacenet-tf")
    names = [l.name for l in p.layers]
    assert not any(l.op == "add" for l in p.layers)  # no residual adds
    assert p.layer("0.0.conv_pad").padding == (0, 1, 0, 1)  # SAME on 112 with stride 2
    assert p.layer("2.0.project_act").kind == "relu"  # activation after the projection
    assert "1.0.act" not in names  # no activation on the first depthwise conv
    gd = p.layer("8.0.conv")
    assert gd.kernel == (3, 3) and gd.stride == (7, 7) and gd.out_shape == (512, 1, 1)
    assert p.output_shape == (254,)
