"""`archlab weights map SRC NAME` (archlab/cli/weights_cmd.py, issue 12): the key map from a checkpoint file or a
module source to a table's build, printed or written (atomically, a count on one line); the written map loads
the module's weights into the table's build, which then computes the module's outputs; a mismatch is one line
naming it (exit 2)."""

from __future__ import annotations

import pytest
import torch
import yaml

import archlab
from tests.helpers.cli import one_line_error
from tests.helpers.small_models import write_small

pytestmark = pytest.mark.usefixtures("single_threaded_torch")


@pytest.fixture
def small(tmp_path) -> str:
    return f"{write_small(tmp_path)}:small"


@pytest.fixture
def table(cli, small, tmp_path):
    path = tmp_path / "small.yaml"
    assert cli("extract", small, "--input", "32x32", "-o", path).exit_code == 0
    return path


def _outputs_match(table, module, key_map) -> None:
    torch.manual_seed(0)
    module.eval()
    for m in module.modules():  # BN statistics that are not the defaults, so a wrong map would show
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2)
    net = archlab.build(table, weights=module.state_dict(), key_map=key_map).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(net(x), module(x), atol=1e-5)


def test_a_module_source_maps_every_tensor_and_the_map_loads(cli, small, table, tmp_path):
    out = tmp_path / "map.yaml"
    r = cli("weights", "map", small, table, "-o", out)
    assert r.exit_code == 0, r.output
    module = archlab.load_module(small)
    keys = list(module.state_dict())
    found = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert list(found) == keys and None not in found.values()
    built = archlab.build(table).state_dict()
    assert sorted(found.values()) == sorted(built)
    summary = f"wrote {out}: {len(keys)} tensors of {small} mapped to {table}'s build (use it as --key-map FILE)"
    assert r.stdout.strip() == summary
    _outputs_match(table, module, out)


def test_a_checkpoint_file_prints_the_same_map(cli, small, table, tmp_path):
    module = archlab.load_module(small)
    checkpoint = tmp_path / "small.pth"
    torch.save(module.state_dict(), checkpoint)
    from_file = cli("weights", "map", checkpoint, table)
    from_module = cli("weights", "map", small, table)
    assert from_file.exit_code == 0 and from_module.exit_code == 0, from_file.output + from_module.output
    printed = yaml.safe_load(from_file.stdout)
    assert printed == yaml.safe_load(from_module.stdout) and len(printed) == len(module.state_dict())


def test_arg_builds_the_source_and_a_mismatch_is_one_line(cli, small, table, tmp_path):
    r = cli("weights", "map", small, table, "--arg", "classes=7")
    line = one_line_error(r, "first mismatch", "fc")
    assert "[7, 16]" in line and "[5, 16]" in line
    wide = tmp_path / "wide.pth"
    torch.save(archlab.load_module(small, ["width=16"]).state_dict(), wide)
    one_line_error(cli("weights", "map", wide, table), "key map auto", "first mismatch")


def test_bad_inputs_are_one_line(cli, small, table, tmp_path):
    one_line_error(cli("weights", "map", tmp_path / "none.pth", table), "no such file")
    one_line_error(cli("weights", "map", small, table, "-o", "/dev/null"), "not a regular file")
    one_line_error(cli("weights", "map", small, "no-such-network"), "no-such-network")
    one_line_error(cli("weights", "map", small, table, "--width", "0.5"), "weight [4, 3, 3, 3]")  # the override's build
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    one_line_error(cli("weights", "map", junk, table), str(junk))
