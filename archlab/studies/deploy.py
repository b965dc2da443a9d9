"""``deploy(net)``: time every runtime of a network on this machine, pick the fastest, write it.

The evidence is the end-to-end table of every runtime (:func:`archlab.nn.runtime_table.measure_runtimes`: the
same interleaved rounds, eager as the baseline, outputs checked against eager); the fastest runtime whose
check passed is written to ``out`` (a folder):

* ``onnxruntime``: ``NAME.onnx`` (dynamic batch axis; run it with the session options stated);
* ``torchscript``: ``NAME.torchscript.pt`` (traced and frozen; ``torch.jit.load``);
* ``eager`` / ``folded`` / ``channels-last`` / ``compile``: ``NAME.<runtime>.pt``, the state dict of the module
  (BN folded but for eager) with the recipe that rebuilds it (``archlab.build``, then channels-last or
  ``torch.compile``);

and beside it ``NAME.deploy.json``: the choice, the recipe, the table and the environment.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from archlab.errors import OptionError
from archlab.ir.plan import Plan
from archlab.nn.model_source import load_call
from archlab.storage.files import write_atomic
from archlab.timing.runtime_table import RuntimeTable


@dataclass
class DeployResult:
    model: str
    runtime: str  # the runtime chosen (the fastest whose outputs match eager's)
    artefact: str  # the file written
    recipe: str  # how to run it
    evidence: str  # the JSON beside it
    table: RuntimeTable
    environment: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        best = self.table.best
        ratio = f"{best.ratio.median:.3f}x eager" if best.ratio else "the baseline"
        return [
            *self.table.lines(),
            f"deploy: {self.runtime} ({best.latency.median:.3f} ms, {ratio}) -> wrote {self.artefact}",
            f"run it: {self.recipe}",
            f"evidence: {self.evidence}",
        ]

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "runtime": self.runtime,
            "artefact": self.artefact,
            "recipe": self.recipe,
            "evidence": self.evidence,
            "table": self.table.to_dict(),
            "environment": self.environment,
        }


def deploy(
    plan: Plan,
    *,
    out: str | Path = ".",
    net=None,
    runtimes: tuple[str, ...] | None = None,
    threads: int = 1,
    batch: int = 1,
    budget: float = 60.0,
    seed: int = 0,
    progress=None,
    clock: str = "auto",
) -> DeployResult:
    """Measure the runtimes of ``plan`` (``net``: the table name or path, a module's ``FILE.py:CALLABLE`` source or
    the module itself, for the recipe), write the fastest into ``out``."""
    from archlab.nn.runtime_table import measure_runtimes
    from archlab.nn.runtimes import environment

    folder = Path(out)
    if not folder.is_dir():
        raise OptionError(f"--out {folder}: not a folder")
    table, prepared = measure_runtimes(
        plan, runtimes=runtimes, threads=threads, batch=batch, budget_s=budget, seed=seed, progress=progress,
        clock=clock,
    )  # fmt: skip
    best = table.best.runtime
    name = net if net is not None or plan.modules is not None else plan.model
    path, recipe = _write(best, prepared[best], folder, plan, name, threads)
    evidence = folder / f"{plan.model}.deploy.json"
    env = environment(tuple(prepared))
    result = DeployResult(plan.model, best, str(path), recipe, str(evidence), table, env)
    write_atomic(evidence, json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    return result


def _write(runtime: str, prep, folder: Path, plan: Plan, name, threads: int) -> tuple[Path, str]:
    import torch

    opts = "".join(f", {k}={v!r}" for k, v in plan.options.items())
    if runtime == "onnxruntime":
        from archlab.nn.onnx_export import ort_options_text

        path = folder / f"{plan.model}.onnx"
        write_atomic(path, prep.artefact.data)
        return path, f"onnxruntime.InferenceSession({str(path)!r}) with {ort_options_text(threads)}; input 'x' NCHW"
    buf = io.BytesIO()
    if runtime == "torchscript":
        path = folder / f"{plan.model}.torchscript.pt"
        torch.jit.save(prep.artefact, buf)
        write_atomic(path, buf.getvalue())
        return path, f"torch.jit.load({str(path)!r}) (traced and frozen); torch.set_num_threads({threads})"
    path = folder / f"{plan.model}.{runtime}.pt"
    torch.save(prep.artefact.state_dict(), buf)
    write_atomic(path, buf.getvalue())
    fold = "" if runtime == "eager" else ", fold_bn=True"
    if plan.modules is not None:  # a traced module: build it again from its source (or the user's module)
        source = load_call(name) or "your_module"
        build = f"m = archlab.build(archlab.plan({source}, input={tuple(plan.input)!r}){fold}).eval()"
    else:
        build = f"m = archlab.build({name!r}{opts}{fold}).eval()"
    load = f"m.load_state_dict(torch.load({str(path)!r}))"
    then = {
        "channels-last": "; m = m.to(memory_format=torch.channels_last) (and a channels-last input)",
        "compile": "; m = torch.compile(m, dynamic=False)",
    }.get(runtime, "")
    return path, f"{build}; {load}{then}; torch.set_num_threads({threads}); run under torch.inference_mode()"
