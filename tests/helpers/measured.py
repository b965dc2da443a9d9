"""What a built network's real forward pass measures per leaf module (= plan layer): the MAdds of its convs
and linears, its parameters and its output shape; the tests compare them with the plan's figures."""

from __future__ import annotations


def measured(net, x) -> tuple[dict, list]:
    """Per leaf module: (MAdds from the real forward, params, output shape); the network's output shapes."""
    import torch

    records = {}

    def hook(name):
        def fn(module, inputs, out):
            if isinstance(module, torch.nn.Conv2d):
                kh, kw = module.kernel_size
                madds = out[0].numel() * (module.in_channels // module.groups) * kh * kw
            elif isinstance(module, torch.nn.Linear):
                madds = module.in_features * module.out_features
            else:
                madds = 0
            records[name] = (madds, sum(p.numel() for p in module.parameters()), tuple(out.shape[1:]))

        return fn

    for name, m in net.named_modules():
        if name and not list(m.children()):
            m.register_forward_hook(hook(name))
    with torch.no_grad():
        y = net(x)
    outs = y if isinstance(y, tuple) else (y,)
    return records, [tuple(o.shape[1:]) for o in outs]
