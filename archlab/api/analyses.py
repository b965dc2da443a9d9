"""Analyses of a plan: counts, memory, lint, receptive fields, diffs and comparisons (no torch for tables)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from archlab.api.tables import Net, load_table, plan
from archlab.errors import OptionError
from archlab.ir.plan import Plan
from archlab.timing import resources

if TYPE_CHECKING:  # result types, for readers and type checkers only
    from archlab.static.counts import Profile
    from archlab.static.diff import Diff
    from archlab.static.lint import Finding
    from archlab.static.memory import MemoryReport
    from archlab.static.receptive import OutputField
    from archlab.studies.compare import Comparison


def profile(net: Net | Plan, *, strict: bool = False, **overrides) -> Profile:
    """Per-layer and per-row parameters, MAdds, other ops and activations (``archlab.ir.ops.CONVENTIONS``); a
    traced module's ops without a rule are listed (``Profile.uncounted``)."""
    from archlab.static.counts import Profile
    from archlab.studies.sources import module_of, plan_of

    if isinstance(net, Plan) or module_of(net) is not None:
        return Profile.from_plan(plan_of(net, strict=strict, **overrides))
    spec = load_table(net)
    return Profile.from_plan(plan_of(spec, strict=strict, **overrides), spec)


def memory(net: Net | Plan, batch: int = 1, *, strict: bool = False, **overrides) -> MemoryReport:
    """Per-layer output bytes, peak activation memory of inference and weight bytes (no torch for tables)."""
    from archlab.static.memory import memory as plan_memory

    return plan_memory(plan(net, strict=strict, **overrides), batch)


def lint(net: Net | Plan, *, strict: bool = False, **overrides) -> list[Finding]:
    """Architecture smells, each naming its table row (``archlab lint``)."""
    from archlab.static.lint import lint_plan

    return lint_plan(plan(net, strict=strict, **overrides))


def output_fields(net: Net | Plan, *, strict: bool = False, **overrides) -> list[OutputField]:
    """The theoretical receptive field of every network output (a detector's prediction heads)."""
    from archlab.static.receptive import output_fields as fields

    return fields(plan(net, strict=strict, **overrides))


def diff(
    a: Net,
    b: Net,
    a_options: dict | list[str] | None = None,
    b_options: dict | list[str] | None = None,
    *,
    strict: bool = False,
) -> Diff:
    """Row-by-row comparison of two networks, or of one network under two option sets. Options: API keywords, or
    ``KEY=VALUE`` strings (``["input=112x96"]``). ``strict``: ops without a counting rule are refused."""
    from archlab.ir.overrides import parse_pairs
    from archlab.static.diff import diff as run

    def options(given, where):
        return parse_pairs(given, where) if isinstance(given, list) else dict(given or {})

    from archlab.studies.sources import label_of

    return run(
        profile(a, strict=strict, **options(a_options, "--a-option")),
        profile(b, strict=strict, **options(b_options, "B's options")),
        label_of(a),
        label_of(b),
    )


def entries(nets: list[str], variants: list[str] | None = None, module_args: list[str] | dict | None = None) -> list:
    """Comparison entries from ``NAME[:key=value,...]`` texts: the networks, then the ``--variant`` ones. A
    ``FILE.py:CALLABLE`` source stays a source (traced by :func:`compare`); ``module_args`` (``--arg``) are the
    arguments of its callable, which needs exactly one source among ``nets``."""
    from archlab.ir.overrides import parse_entry
    from archlab.nn.model_source import load_module, looks_like_source

    sources = [n for n in nets if looks_like_source(n)]
    if module_args and len(sources) != 1:
        raise OptionError(
            f"--arg is for one FILE.py:CALLABLE entry; {len(sources)} given "
            "(compare differently built modules by writing a callable for each)"
        )
    out = [
        (load_module(n, module_args) if module_args else n) if n in sources else parse_entry(n, "entry") for n in nets
    ]
    out += [parse_entry(v, "--variant") for v in variants or []]
    if not out:
        raise OptionError("give at least one network (NAME ...) or --variant NAME:key=value")
    return out


def compare(
    *entries,
    latency: bool = False,
    progress: Callable[..., Any] | None = None,
    input=None,
    strict: bool = False,
    **options,
) -> Comparison:
    """Networks or variants side by side: ``archlab.compare("mobilefacenet", "mobilefacenet:head=gap")``.
    One record per entry (``NAME[:key=value,...]``, a torch module or ``FILE.py:CALLABLE``, traced at ``input``);
    ``latency=True`` also times them (imports torch). ``progress(done, total, what)``:
    :mod:`archlab.timing.progress` (the latency's stages)."""
    from archlab.studies.compare import compare as run
    from archlab.studies.sources import traced_entries

    if "threads" in options:
        options["threads"] = resources.usable_threads(options["threads"])
    return run(traced_entries(entries, input, strict), latency=latency, progress=progress, **options)
