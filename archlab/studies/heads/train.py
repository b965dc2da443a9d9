"""Training one head on the synthetic faces (torch): paired initialisation, CosFace, SGD with warm-up + cosine.

Pairing: for a seed, every head starts from the same backbone weights and the same CosFace class weights,
and sees the same batches in the same order. The backbone is built once (``head="gap"``, under
``torch.manual_seed(seed)``) and its parameters and buffers (every state_dict entry outside ``head.``) are
copied by name into each head's build, so a worker that trains only one head reproduces the same start.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from archlab.ir.expand import plan_of
from archlab.nn.build import build_net
from archlab.studies.heads.config import HeadsConfig

HEAD_PREFIX = "head."


def build_head_model(cfg: HeadsConfig, head: str, seed: int) -> nn.Module:
    """``build_net(net, width, head)`` with the seed's shared backbone initialisation."""
    torch.manual_seed(seed)
    reference = build_net(cfg.net, width=cfg.width, head="gap").state_dict()
    torch.manual_seed(seed)
    model = build_net(cfg.net, width=cfg.width, head=head)
    own = model.state_dict()
    with torch.no_grad():
        for name, value in reference.items():
            if not name.startswith(HEAD_PREFIX):
                own[name].copy_(value)
    return model


def backbone_state(model: nn.Module) -> dict:
    """The state_dict entries outside the head."""
    return {k: v for k, v in model.state_dict().items() if not k.startswith(HEAD_PREFIX)}


class CosFace(nn.Module):
    """Large margin cosine loss (Wang et al. 2018): s * (cos(theta_y) - m) for the true class, s * cos else."""

    def __init__(self, dim: int, classes: int, s: float, m: float, seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn(classes, dim, generator=g) * 0.01)
        self.s, self.m = s, m

    def forward(self, embeddings, labels):
        cos = F.linear(F.normalize(embeddings), F.normalize(self.weight))
        margin = F.one_hot(labels, cos.shape[1]).to(cos.dtype) * self.m
        return F.cross_entropy(self.s * (cos - margin), labels)


def learning_rate(step: int, cfg: HeadsConfig) -> float:
    """Linear warm-up to cfg.lr over the warm-up steps, then cosine decay to 0 (step counts from 0)."""
    warm = cfg.warmup_steps
    if step < warm:
        return cfg.lr * (step + 1) / warm
    span = max(1, cfg.steps - warm)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / span))


def batch_order(n_images: int, cfg: HeadsConfig, seed: int) -> np.ndarray:
    """(steps, batch) image indices: seeded epoch permutations laid end to end (the same for every head)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    need = cfg.steps * cfg.batch
    order = np.concatenate([rng.permutation(n_images) for _ in range(-(-need // n_images))])
    return order[:need].reshape(cfg.steps, cfg.batch)


def to_tensor(images: np.ndarray, channels_last: bool = False) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W) in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    return x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def make_optimizer(params_model: nn.Module, loss: nn.Module, cfg: HeadsConfig) -> torch.optim.SGD:
    """SGD (Nesterov); weight decay on weights with >= 2 dimensions (conv, linear, class weights) only."""
    params = list(params_model.parameters()) + list(loss.parameters())
    decay = [p for p in params if p.ndim >= 2]
    plain = [p for p in params if p.ndim < 2]
    return torch.optim.SGD(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": plain, "weight_decay": 0.0}],
        lr=cfg.lr,
        momentum=cfg.momentum,
        nesterov=True,
    )


def train_head(
    cfg: HeadsConfig,
    head: str,
    seed: int,
    images: np.ndarray,
    labels: np.ndarray,
    progress: Callable[[int, float], None] | None = None,
):
    """Train one head; returns (model in eval mode, contiguous, curve dict, seconds).

    ``progress(step_done, loss)`` is called after every step. The curve holds the mean loss of each block of
    ``cfg.record_every`` steps (``{"steps": [last step of the block], "loss": [...]}``)."""
    model = build_head_model(cfg, head, seed)
    classes = int(labels.max()) + 1
    loss_fn = CosFace(embedding_dim(cfg), classes, cfg.cosface_s, cfg.cosface_m, seed)
    opt = make_optimizer(model, loss_fn, cfg)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    model.train()
    labels_t = torch.from_numpy(labels)
    curve: dict[str, list] = {"steps": [], "loss": []}
    block: list[float] = []
    start = time.perf_counter()
    for step, idx in enumerate(batch_order(len(labels), cfg, seed)):
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, cfg)
        loss = loss_fn(model(to_tensor(images[idx], cfg.channels_last)), labels_t[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(f"{head} seed {seed}: loss became {value} at step {step + 1}")
        block.append(value)
        if len(block) == cfg.record_every or step + 1 == cfg.steps:
            curve["steps"].append(step + 1)
            curve["loss"].append(float(np.mean(block)))
            block = []
        if progress is not None:
            progress(step + 1, value)
    seconds = time.perf_counter() - start
    model = model.to(memory_format=torch.contiguous_format).eval()  # type: ignore[call-overload]
    return model, curve, seconds


def embedding_dim(cfg: HeadsConfig) -> int:
    """The output size of the network (the embedding), from the plan (no forward pass)."""
    plan = plan_of(cfg.net, width=cfg.width)
    return int(plan.output_shape[0])


def contiguous_state_dict(model: nn.Module) -> dict:
    """A detached, contiguous copy of the state_dict (loads strictly into a fresh ``archlab.build``)."""
    return {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
