"""archlab.nn.weights.read_state_dict: a checkpoint that holds pickled code is refused in one whole sentence
naming what it holds (issue 15: the message was torch's, cut mid-sentence); nothing it holds ever runs."""

import os

import pytest

from archlab.errors import ArchlabError
from archlab.nn.weights import read_state_dict


class Payload:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_pickled_code_is_refused_in_one_sentence(tmp_path, monkeypatch):
    import torch

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"conv.weight": torch.zeros(1), "x": Payload()}, path)
    with pytest.raises(ArchlabError) as e:
        read_state_dict(path)
    text = str(e.value)
    assert "refused: it holds a pickled object (posix.system" in text or "(nt.system" in text
    assert text.endswith("torch.save(model.state_dict(), FILE)") and "\n" not in text
    assert not (tmp_path / "pwned").exists()


def test_garbage_is_not_a_checkpoint_and_says_why(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(b"garbage, not a pickle")
    with pytest.raises(ArchlabError, match=r"not a PyTorch checkpoint \(torch.load: .+\)$") as e:
        read_state_dict(path)
    assert "weights_only" not in str(e.value) and len(str(e.value)) < 260
