"""What a trained head computes and learned (torch): test embeddings, FMap-end feature energy, and the
weight each head gives each FMap-end position.

* learned position map: ``gdconv``: mean |kernel| over channels of ``head.gdconv.dw`` (C, 1, H, W);
  ``fc``: mean |weight| over outputs and channels of ``head.embedding.linear`` reshaped to (out, C, H, W)
  (the flatten before it is channel-major); ``gap``: uniform (it weighs every position 1 / (H W));
* feature energy: the mean squared FMap-end activation at each position, over test images and channels.

Both are returned raw; ``metrics.map_summary`` normalises them to mean 1 and computes the ratios.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from archlab.ir.expand import plan_of
from archlab.ir.structure import fmap_end_map
from archlab.studies.heads.config import HeadsConfig
from archlab.studies.heads.train import to_tensor


def fmap_end(cfg: HeadsConfig, head: str) -> tuple[str, tuple[int, int, int]]:
    """(layer name, (C, H, W)) of the map that feeds the head, from the plan."""
    plan = plan_of(cfg.net, width=cfg.width, head=head)
    name = fmap_end_map(plan)
    c, h, w = plan.layer(name).out_shape
    return name, (c, h, w)


def embed_with_energy(
    model: nn.Module, images: np.ndarray, fmap_name: str, batch: int = 100, batch_stats: bool = False
):
    """(embeddings (N, D) float64, energy (H, W) float64): one pass over ``images`` without gradients, in
    eval mode, or with ``batch_stats`` in train mode (BN normalises with each batch's statistics: the
    reference for an untrained network, whose running statistics are still 0 and 1; it updates them)."""
    sums = []

    def hook(_module, _inputs, output):
        sums.append(output.detach().double().pow(2).mean(dim=1).sum(dim=0))

    handle = model.get_submodule(fmap_name).register_forward_hook(hook)
    model.train(batch_stats)
    outs = []
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch):
                outs.append(model(to_tensor(images[start : start + batch])).double().numpy())
    finally:
        handle.remove()
    energy = (torch.stack(sums).sum(0) / len(images)).numpy()
    return np.concatenate(outs), energy


def learned_position_map(model: nn.Module, head: str, fmap_shape: tuple[int, int, int]) -> np.ndarray:
    """The (H, W) weight magnitude the head gives each FMap-end position (see the module docstring)."""
    c, h, w = fmap_shape
    state = model.state_dict()
    if head == "gap":
        return np.ones((h, w))
    if head == "gdconv":
        kernel = state["head.gdconv.dw.weight"].detach().double().abs()  # (C, 1, H, W)
        return kernel.mean(dim=(0, 1)).numpy()
    if head == "fc":
        weight = state["head.embedding.linear.weight"].detach().double().abs()  # (out, C*H*W)
        return weight.reshape(weight.shape[0], c, h, w).mean(dim=(0, 1)).numpy()
    raise ValueError(f"unknown head {head!r}")


def initial_energy(cfg: HeadsConfig, seed: int, test_images: np.ndarray) -> np.ndarray:
    """FMap-end feature energy of the seed's shared, untrained initialisation (BN on batch statistics): the
    baseline that says whether training moved energy away from the corners (zero padding already does)."""
    from archlab.studies.heads.train import build_head_model

    model = build_head_model(cfg, "gap", seed)
    name, _ = fmap_end(cfg, "gap")
    return embed_with_energy(model, test_images, name, batch_stats=True)[1]


def evaluate_head(model: nn.Module, head: str, cfg: HeadsConfig, test_images: np.ndarray, pairs: dict):
    """(Verification, energy grid, learned grid) on the held-out faces.

    ``pairs``: {"all": (i, j, same), "balanced": (i, j, same)} from ``metrics.all_pairs`` and
    ``metrics.balanced_pairs``."""
    from archlab.studies.heads import metrics as M
    from archlab.studies.heads.config import FARS
    from archlab.studies.heads.records import Verification, far_key

    name, shape = fmap_end(cfg, head)
    emb, energy = embed_with_energy(model, test_images, name)
    i, j, same = pairs["all"]
    scores = M.cosine_scores(emb, i, j)
    bi, bj, bsame = pairs["balanced"]
    acc = M.kfold_accuracy(M.cosine_scores(emb, bi, bj), bsame, folds=10, seed=cfg.impostor_seed)
    verification = Verification(
        auc=M.roc_auc(scores, same),
        accuracy=acc["mean"],
        accuracy_sd=acc["sd"],
        tar={far_key(f): M.tar_at_far(scores, same, f)[0] for f in FARS},
        genuine_pairs=int(same.sum()),
        impostor_pairs=int((~same).sum()),
        balanced_pairs=len(bsame),
    )
    return verification, energy, learned_position_map(model, head, shape)
