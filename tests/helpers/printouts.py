"""Module printouts: parse the lines of tests/data/printouts/*.txt and describe a built network the same way.

The files hold the module lines (Conv2d/BatchNorm/PReLU/Linear/pool reprs) extracted from published printouts:
MobileFaceNet(512) from InsightFace_Pytorch, Xception, MobileNetV2 as the SSD base net, SSDLite-MobileNetV2.
"""

import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "printouts"
KINDS = ("Conv2d", "BatchNorm2d", "BatchNorm1d", "PReLU", "Linear", "MaxPool2d", "AvgPool2d")


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def parse_line(line: str):
    """One printout line -> the tuple :func:`describe` gives for the same module."""
    kind, args = re.match(r"(\w+)\((.*)\)$", line.strip()).groups()
    if kind == "Conv2d":
        cin, cout = map(int, re.match(r"(\d+), (\d+)", args).groups())
        kv = dict(re.findall(r"(\w+)=(\([^)]*\)|\w+)", args))

        def tup(s, d):
            return tuple(int(x) for x in re.findall(r"\d+", kv[s])) if s in kv else d

        return (
            kind,
            cin,
            cout,
            tup("kernel_size", None),
            tup("stride", (1, 1)),
            tup("padding", (0, 0)),
            int(kv.get("groups", 1)),
            kv.get("bias", "True") == "True",
        )
    if kind.startswith("BatchNorm"):
        return (kind, int(args.split(",")[0]))
    if kind == "PReLU":
        return (kind, int(re.search(r"num_parameters=(\d+)", args).group(1)))
    if kind == "Linear":
        kv = dict(re.findall(r"(\w+)=(\w+)", args))
        return (kind, int(kv["in_features"]), int(kv["out_features"]), kv["bias"] == "True")
    kv = dict(re.findall(r"(\w+)=(\w+)", args))
    return (kind, _pair(int(kv["kernel_size"])), _pair(int(kv["stride"])), _pair(int(kv["padding"])))


def read_printout(filename: str) -> list:
    """The parsed module lines of ``tests/data/printouts/<filename>``."""
    return [parse_line(line) for line in (DATA / filename).read_text().splitlines() if line.strip()]


def describe(module):
    kind = type(module).__name__
    if kind == "Conv2d":
        m = module
        return (
            kind,
            m.in_channels,
            m.out_channels,
            tuple(m.kernel_size),
            tuple(m.stride),
            tuple(m.padding),
            m.groups,
            m.bias is not None,
        )
    if kind.startswith("BatchNorm"):
        return (kind, module.num_features)
    if kind == "PReLU":
        return (kind, module.num_parameters)
    if kind == "Linear":
        return (kind, module.in_features, module.out_features, module.bias is not None)
    return (kind, _pair(module.kernel_size), _pair(module.stride), _pair(module.padding))


def leaves(net, prefix_filter=None):
    """The printout-kind leaf modules of ``net``, in order, described; ``prefix_filter(name)`` keeps some."""
    out = []
    for name, m in net.named_modules():
        if type(m).__name__ in KINDS and (prefix_filter is None or prefix_filter(name)):
            out.append(describe(m))
    return out
