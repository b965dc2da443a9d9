"""archlab.nn.key_map: key_map="auto" maps a foreign state_dict onto an archlab build by module order and
exact shapes, refuses incomplete or ambiguous matches naming the first mismatch, and writes the map it found as
YAML (issue 12)."""

from __future__ import annotations

import random
import re

import pytest
import torch

import archlab
from archlab.errors import ArchlabError
from archlab.nn.key_map import groups, match
from tests.helpers.modules import outputs, reference, relative_difference

pytestmark = pytest.mark.usefixtures("single_threaded_torch")


def _l2(t):
    return t / t.norm(dim=1, keepdim=True)


def test_torchvision_mobilenetv2_loads_into_the_shipped_table():
    module = reference("mobilenet_v2")
    net = archlab.build("mobilenetv2", weights=module.state_dict(), key_map="auto")
    x = torch.randn(1, 3, 224, 224)
    assert relative_difference(outputs(net, x), outputs(module, x)) <= 1e-6


def test_insightface_mobilefacenet_loads_into_the_shipped_table():
    module = reference("insightface_mobilefacenet")
    net = archlab.build("mobilefacenet", weights=module.state_dict(), key_map="auto")
    x = torch.randn(2, 3, 112, 112)
    assert relative_difference(_l2(outputs(net, x)), outputs(module, x)) <= 1e-6  # InsightFace's forward l2-norms


@pytest.mark.slow
def test_the_xception_port_loads_into_the_shipped_table():
    module = reference("xception")
    net = archlab.build("xception", weights=module.state_dict(), key_map="auto")
    x = torch.randn(1, 3, 299, 299)
    assert relative_difference(outputs(net, x), outputs(module, x)) <= 1e-6


def test_a_shuffled_state_dict_is_refused_naming_the_first_mismatch():
    items = list(reference("insightface_mobilefacenet").state_dict().items())
    random.Random(0).shuffle(items)
    with pytest.raises(ArchlabError) as info:
        archlab.build("mobilefacenet", weights=dict(items), key_map="auto")
    text = str(info.value)
    assert text.startswith("key map auto: ambiguous: ") and "\n" not in text
    # both names, both shapes: network 0.0.bn (weight [64], ...) vs the checkpoint's module met there
    assert re.search(
        r"first mismatch: network mobilefacenet 0\.0\.bn \(weight \[64\], bias \[64\], "
        r"running_mean \[64\], running_var \[64\]\) vs the state_dict [\w.]+ \(weight \[\d+",
        text,
    )


def test_a_truncated_state_dict_is_refused_naming_the_first_mismatch():
    state = reference("insightface_mobilefacenet").state_dict()
    head = dict(list(state.items())[:-4])  # the embedding BN's bias and statistics are missing
    with pytest.raises(
        ArchlabError,
        match=r"no module of the state_dict fits network mobilefacenet's "
        r"head\.embedding\.bn; first mismatch: network mobilefacenet "
        r"head\.embedding\.bn \(weight \[128\], bias \[128\], running_mean "
        r"\[128\], running_var \[128\]\) vs the state_dict bn \(weight \[128\]\)$",
    ):
        archlab.build("mobilefacenet", weights=head, key_map="auto")
    extra = {**state, "extra.weight": torch.zeros(3, 3)}
    with pytest.raises(
        ArchlabError,
        match=r"has 1 module\(s\) of tensors that network mobilefacenet does not: "
        r"first extra \(weight \[3, 3\]\) \(incomplete match",
    ):
        archlab.build("mobilefacenet", weights=extra, key_map="auto")


def test_order_breaks_are_allowed_only_where_one_module_fits():
    def state(*shapes):
        return {f"m{i}.weight": torch.zeros(s) for i, s in enumerate(shapes)}

    swapped = match(
        groups(state((2,), (3,), (4,))), groups(state((3,), (2,), (4,))), source_label="a", target_label="b"
    )
    assert swapped == {"m1.weight": "m0.weight", "m0.weight": "m1.weight", "m2.weight": "m2.weight"}
    with pytest.raises(ArchlabError, match="ambiguous: 2 modules of a fit b's m0"):
        match(groups(state((2,), (3,), (3,))), groups(state((3,), (2,), (3,))), source_label="a", target_label="b")


def test_the_map_found_is_written_as_yaml_and_loads_as_a_key_map_file(tmp_path):
    module = reference("insightface_mobilefacenet")
    path = tmp_path / "map.yaml"
    found = archlab.weights_map(module.state_dict(), "mobilefacenet", out=path)
    assert found["conv1.conv.weight"] == "0.0.conv" + ".weight" and found["conv_6_dw.conv.weight"].startswith("head.")
    text = path.read_text()
    assert (
        text.startswith("# archlab weights map: the state_dict -> mobilefacenet")
        and "conv1.conv.weight: 0.0.conv.weight" in text
    )
    net = archlab.build("mobilefacenet", weights=module.state_dict(), key_map=path)
    x = torch.randn(2, 3, 112, 112)
    assert relative_difference(_l2(outputs(net, x)), outputs(module, x)) <= 1e-6


@pytest.mark.slow
def test_a_source_module_is_matched_by_its_graph():
    module = reference("resnet50")  # downsample.0 and conv3 have the same shapes: the state_dict alone is ambiguous
    table = archlab.extract(module, (64, 64))
    with pytest.raises(ArchlabError, match="ambiguous"):
        archlab.build(table, weights=module.state_dict(), key_map="auto")
    net = archlab.build(table, weights=module, key_map="auto")
    x = torch.randn(1, 3, 64, 64)
    assert relative_difference(outputs(net, x), outputs(module, x)) <= 1e-6
