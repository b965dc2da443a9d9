"""Is a network built from a layer table as fast as the same network written by hand?

Compares ``archlab.build(NET)`` (a torch.fx GraphModule: straight-line module calls, activations in place where
safe) with a plain hand-written ``nn.Module`` with the same weights (copied, outputs checked equal), timed
interleaved with archlab's own method (archlab.timing.rounds): rounds in a fresh random order, ratio = archlab
sample / hand-written sample within each round, median ratio with its 95% CI; at 1 thread on the per-thread CPU
clock (wall time beside it), at more threads on wall time.

* mobilefacenet: the hand-written MobileFaceNet below (acceptance, issue 5: ratio <= 1.03);
* mobilenetv2: torchvision's MobileNetV2 layout (tests/reference_models/mobilenet.py, ReLU6 in place as in
  torchvision; acceptance, issue 17: ratio <= 1.02, 1 thread, CPU clock).

    .venv/bin/python benchmarks/bench_build_vs_hand.py [--nets mobilefacenet,mobilenetv2] [--threads 1]
        [--budget 60] [--batch 1]

Prints one line per network and thread count and exits 1 if a ratio exceeds its acceptance.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

import archlab
from archlab.timing import rounds as lat
from archlab.timing.machine import keep_heap, load_text, loadavg

ROOT = Path(__file__).resolve().parent.parent
ACCEPT = {"mobilefacenet": 1.03, "mobilenetv2": 1.02}

# -- MobileFaceNet written by hand (Chen et al. 2018, Table 1), nothing generated ------------------------


class ConvBNPReLU(nn.Module):
    def __init__(self, cin, cout, k=1, s=1, groups=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.PReLU(cout) if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        self.expand = ConvBNPReLU(cin, hidden, 1)
        self.dw = ConvBNPReLU(hidden, hidden, 3, stride, groups=hidden)
        self.project = ConvBNPReLU(hidden, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.dw(self.expand(x)))
        return x + y if self.residual else y


class HandMobileFaceNet(nn.Module):
    SETTINGS = [(2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1)]  # t, c, n, s

    def __init__(self, embedding=128):
        super().__init__()
        self.conv1 = ConvBNPReLU(3, 64, 3, 2)
        self.dw_conv1 = ConvBNPReLU(64, 64, 3, 1, groups=64)
        blocks = []
        cin = 64
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                blocks.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        self.blocks = nn.Sequential(*blocks)
        self.conv2 = ConvBNPReLU(cin, 512, 1)
        self.gdconv = nn.Conv2d(512, 512, 7, 1, 0, groups=512, bias=False)
        self.gdconv_bn = nn.BatchNorm2d(512)
        self.linear = nn.Linear(512, embedding, bias=False)
        self.linear_bn = nn.BatchNorm1d(embedding)

    def forward(self, x):
        x = self.conv2(self.blocks(self.dw_conv1(self.conv1(x))))
        x = self.gdconv_bn(self.gdconv(x)).flatten(1)
        return self.linear_bn(self.linear(x))


def copy_weights(src: nn.Module, dst: nn.Module) -> None:
    """Copy parameters and buffers in definition order (both networks define them in execution order)."""
    a, b = list(src.state_dict().items()), list(dst.state_dict().items())
    if len(a) != len(b) or any(va.shape != vb.shape for (_, va), (_, vb) in zip(a, b)):
        raise SystemExit("the hand-written network does not match archlab's plan (state dicts differ)")
    dst.load_state_dict({kb: va.clone() for (_, va), (kb, _) in zip(a, b)})


def hand_written(net: str) -> nn.Module:
    if net == "mobilefacenet":
        return HandMobileFaceNet()
    sys.path.insert(0, str(ROOT))  # the reference models live with the tests
    from tests.reference_models.mobilenet import mobilenet_v2

    return mobilenet_v2()


def pair(net: str, batch: int):
    """The built and the hand-written network with the same weights and non-trivial BN statistics."""
    built = archlab.build(net).eval()
    hand = hand_written(net).eval()
    copy_weights(built, hand)
    with torch.no_grad():  # non-trivial BN statistics, so the output check means something
        for m in list(built.modules()) + list(hand.modules()):
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                g = torch.Generator().manual_seed(m.num_features)
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    x = torch.randn(batch, *built.plan.input)
    with torch.inference_mode():
        diff = (built(x) - hand(x)).abs().max().item()
    return built, hand, x, diff


def compare(built, hand, x, t: int, args) -> lat.Result:
    def enter(t=t):
        torch.set_num_threads(t)

    clock = lat.clock_for(t)
    cands = [lat.Candidate("archlab", lambda: built(x), enter, clock=clock)]
    cands.append(lat.Candidate("hand", lambda: hand(x), enter, clock=clock))
    with torch.inference_mode():
        for c in cands:
            lat.warm_up(c, seconds=1.0)
        res, base = lat.interleaved(
            cands[:1],
            cands[1],
            deadline=time.monotonic() + args.budget,
            target=args.target,
            rng=random.Random(args.seed),
        )
    return res["archlab"], base


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default="mobilefacenet,mobilenetv2")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per network and thread count")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--target", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    keep_heap()
    ok = True
    for net in args.nets.split(","):
        torch.manual_seed(args.seed)
        built, hand, x, diff = pair(net, args.batch)
        params = sum(p.numel() for p in hand.parameters())
        print(
            f"{net}: archlab.build vs hand-written nn.Module; params {params:,} (archlab: "
            f"{archlab.profile(net).totals['params']:,}); max |output difference| {diff:.3g}"
        )
        ok &= diff == 0.0
        for t in [int(v) for v in args.threads.split(",")]:
            start = time.monotonic()
            r, base = compare(built, hand, x, t, args)
            rs, ls, hs = r.ratio, r.latency, base.latency
            passed = rs.median <= ACCEPT[net]
            ok &= passed
            print(
                f"  threads {t} ({'CPU' if r.clock == 'cpu' else 'wall'} clock): archlab {ls.median:.3f} ms (CI "
                f"{ls.ci_low:.3f}-{ls.ci_high:.3f}), hand-written {hs.median:.3f} ms; ratio archlab/hand "
                f"{rs.median:.4f} (95% CI {rs.ci_low:.4f}-{rs.ci_high:.4f}, {rs.n} rounds, "
                f"{time.monotonic() - start:.0f} s; wall {r.wall_latency.median:.3f} ms) "
                f"{'<=' if passed else '>'} {ACCEPT[net]} {'ok' if passed else 'FAIL'}; {load_text(loadavg())}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
