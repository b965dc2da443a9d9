"""The tracer for modules torch.fx cannot trace: run the module once and watch it.

Forward hooks on every module keep the module path of the code running; leaf modules (those of ``torch.nn``
but its containers, as for fx) are reported whole, and every torch function called outside them is seen
through a ``TorchFunctionMode``. Control flow follows the given input (zeros), so a module whose structure
depends on its input's values is traced for that input only; the plan's notes say it was traced this way.
"""

from __future__ import annotations

from contextlib import contextmanager

from archlab.errors import ArchlabError
from archlab.nn.trace_record import Reached, Recorder


def is_leaf(module) -> bool:
    """fx's rule: a module of torch.nn (or torch.ao.nn) other than Sequential is called as a whole."""
    import torch.nn as nn

    mod = type(module).__module__
    return (mod.startswith("torch.nn") or mod.startswith("torch.ao.nn")) and not isinstance(module, nn.Sequential)


def walk(root, x, rec: Recorder):
    """Run ``root(x)`` once, reporting every leaf-module call and every other torch call to ``rec``."""
    import torch
    from torch.overrides import TorchFunctionMode

    stack: list[str] = []
    inside = [0]  # > 0 while a leaf module (or a custom autograd Function) runs: its own calls are not reported

    class Watch(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if not inside[0]:
                rec.function_call(stack[-1] if stack else "", func, args, kwargs, out)
            return out

    def pre(path, leaf):
        def hook(module, args, kwargs):
            stack.append(path)
            inside[0] += leaf

        return hook

    def post(path, leaf):
        def hook(module, args, kwargs, out):
            stack.pop()
            inside[0] -= leaf
            if leaf and not inside[0]:
                rec.module_call(path, module, args, kwargs, out)

        return hook

    def autograd_call(call, args, kwargs):
        inside[0] += 1
        try:
            out = call(*args, **kwargs)
        finally:
            inside[0] -= 1
        if not inside[0]:
            rec.function_call(stack[-1] if stack else "", call, args, kwargs, out)
        return out

    handles = []
    for path, module in root.named_modules():
        leaf = int(bool(path) and is_leaf(module))
        handles.append(module.register_forward_pre_hook(pre(path, leaf), with_kwargs=True))
        handles.append(module.register_forward_hook(post(path, leaf), with_kwargs=True))
    try:
        with torch.no_grad(), autograd_functions_as_calls(on_call=autograd_call), Watch():
            return root(x)
    except (ArchlabError, Reached):
        raise
    except Exception as e:
        text = str(e).strip().splitlines()
        why = f"{type(e).__name__}: {text[0][:200]}" if text else type(e).__name__
        raise ArchlabError(
            f"running {type(root).__name__} on a {'x'.join(map(str, x.shape))} input failed: {why}"
        ) from None
    finally:
        for h in handles:
            h.remove()


class AutogradCall:
    """A custom ``torch.autograd.Function``'s ``apply``, as one traced call named after the Function."""

    def __init__(self, cls, apply) -> None:
        self.cls, self.apply = cls, apply
        self.archlab_name = f"{cls.__module__}.{cls.__qualname__}.apply"
        self.__name__ = self.__qualname__ = f"{cls.__name__}_apply"  # fx names its node after it
        self.__module__ = cls.__module__

    def __call__(self, *args, **kwargs):
        return self.apply(self.cls, *args, **kwargs)


@contextmanager
def autograd_functions_as_calls(tracer=None, on_call=None):
    """While tracing, a custom autograd Function is one call (fx and the walk would see its forward's ops)."""
    import torch
    import torch.fx as fx

    function = torch.autograd.Function
    original = function.__dict__["apply"]
    apply = original.__func__

    def patched(cls, *args, **kwargs):
        if tracer is not None and any(isinstance(a, fx.Proxy) for a in (*args, *kwargs.values())):
            return tracer.create_proxy("call_function", AutogradCall(cls, apply), args, kwargs)
        if on_call is not None:
            return on_call(AutogradCall(cls, apply), args, kwargs)
        return apply(cls, *args, **kwargs)

    function.apply = classmethod(patched)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        function.apply = original  # type: ignore[method-assign]
