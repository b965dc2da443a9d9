"""The grid of a latency sweep: its options, its configurations (one per combination of width, stem, input,
head, threads, batch and runtime), their plans and counts, and the CSV key of each (the resume key)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from archlab.errors import ArchlabError, OptionError
from archlab.ir.overrides import parse_hw
from archlab.spec.limits import MAX_WIDTH
from archlab.storage.sweep_store import CONFIG_COLUMNS
from archlab.timing import rounds as lat

STEMS = ("2", "1", "1+pool")
DEFAULT_WIDTHS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
DEFAULT_BUDGET = 240.0
MAX_SECONDS = 7 * 24 * 3600.0  # a week: --budget and --warmup above it are typing mistakes (1e9 s is 31 years)
DEFAULT_THREADS = (1,)
THREADS_WHY = (
    "threads: 1 by default: on a machine shared with other jobs more threads time their load too (threads wait "
    "for each other), and at 1 thread the per-thread CPU clock times the inference without preemption "
    "(several times narrower CIs under load); give --threads to sweep more"
)


# -- configurations ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """One point of the grid. ``head`` is the pool of the head (``none`` when the table has no head)."""

    model: str
    width: float
    stem: str
    input: tuple[int, int]
    head: str
    threads: int
    batch: int
    runtime: str
    channels_last: bool

    def key(self) -> tuple[str, ...]:
        """The resume key: every configuration column, as written in the CSV."""
        return (
            self.model,
            fmt_width(self.width),
            self.stem,
            fmt_hw(self.input),
            self.head,
            str(self.threads),
            str(self.batch),
            self.runtime,
            fmt_bool(self.channels_last),
        )

    def plan_key(self) -> tuple:
        return (self.width, self.stem, self.input, self.head)

    def overrides(self, has_head: bool) -> dict:
        """The keyword arguments of ``archlab.plan`` / ``archlab.profile`` for this configuration."""
        kw: dict = {"width": self.width, "input": fmt_hw(self.input)}
        if self.stem == "1+pool":
            kw["stem_pool"] = True
        else:
            kw["stem_stride"] = int(self.stem)
        if has_head:
            kw["head"] = self.head
        return kw

    def label(self) -> str:
        return (
            f"width {fmt_width(self.width)}, stem {self.stem}, input {fmt_hw(self.input)}, head {self.head}, "
            f"{self.threads} thread{'s' if self.threads != 1 else ''}, batch {self.batch}, {self.runtime}"
            + (", channels_last" if self.channels_last else "")
        )

    def as_dict(self) -> dict:
        return dict(zip(CONFIG_COLUMNS, self.key()))


def fmt_width(w: float) -> str:
    return repr(float(w))


def fmt_hw(hw) -> str:
    return f"{hw[0]}x{hw[1]}"


def fmt_bool(v: bool) -> str:
    return "true" if v else "false"


def fmt_num(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return fmt_bool(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.6g}"
    return str(v)


def canonical_key(row: dict) -> tuple[str, ...]:
    """The resume key of a CSV row, normalised (``1`` and ``1.0`` are the same width)."""

    try:
        width = fmt_width(float(row["width"]))
        hw = fmt_hw(parse_hw(row["input"]))
        threads, batch = str(int(row["threads"])), str(int(row["batch"]))
        cl = fmt_bool(str(row["channels_last"]).strip().lower() in ("true", "1", "yes"))
    except (ValueError, ArchlabError) as e:
        raise ValueError(f"bad configuration value: {e}") from None
    return (row["model"], width, str(row["stem"]), hw, row["head"], threads, batch, row["runtime"], cl)


# -- options -----------------------------------------------------------------------------------------------


@dataclass
class SweepOptions:
    """What to sweep and how long. ``None`` for inputs/heads/threads means: the table's input, the table's
    head, 1 thread (``THREADS_WHY``)."""

    net: str
    widths: tuple[float, ...] = DEFAULT_WIDTHS
    stems: tuple[str, ...] = STEMS
    inputs: tuple[str, ...] | None = None
    heads: tuple[str, ...] | None = None
    threads: tuple[int, ...] | None = None
    batches: tuple[int, ...] = (1,)
    runtimes: tuple[str, ...] = ("eager",)
    channels_last: bool = False
    baseline: dict = field(default_factory=dict)  # width, stem, input, head, threads, batch, runtime
    budget: float = DEFAULT_BUDGET  # seconds for the whole sweep, preparation and warm-up included: a hard bound
    target: float = lat.DEFAULT_TARGET
    confidence: float = lat.DEFAULT_CONFIDENCE
    warmup: float = 0.3  # seconds of warm-up per configuration
    min_samples: int = lat.MIN_SAMPLES
    max_samples: int | None = None
    seed: int | None = None
    module: object = None  # a torch module to sweep (``net`` is then its label): inputs, threads, batches, runtimes
    clock: str = "auto"  # auto: per-thread CPU time at 1 thread, wall otherwise; cpu; wall

    def check(self) -> None:
        """Every option in range, NaN and infinity refused (``--warmup inf`` would never end)."""
        if not self.widths:
            raise OptionError("--widths: give at least one width")
        for w in self.widths:
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 < w <= MAX_WIDTH:
                raise OptionError(f"--widths: every width must be > 0 and <= {MAX_WIDTH:g}, got {w}")
        for s in self.stems:
            if s not in STEMS:
                raise OptionError(f"--stems: unknown stem {s!r}; use 2, 1 or 1+pool")
        for hw in self.inputs or ():
            try:
                parse_hw(hw)
            except ArchlabError:
                raise OptionError(f"--inputs: every input size must look like 112x96 (HxW), got {hw!r}") from None
        for t in self.threads or ():
            if isinstance(t, bool) or not isinstance(t, int) or t < 1:
                raise OptionError(f"--threads: every thread count must be an integer >= 1, got {t}")
        for b in self.batches:
            if isinstance(b, bool) or not isinstance(b, int) or b < 1:
                raise OptionError(f"--batch: every batch size must be an integer >= 1, got {b}")
        if not self.stems or not self.batches or not self.runtimes:
            raise OptionError("--stems, --batch and --runtimes need at least one value")
        _seconds("--budget", self.budget, zero=False)
        _seconds("--warmup", self.warmup, zero=True)
        if self.warmup >= self.budget:
            raise OptionError(
                f"--warmup ({self.warmup:g} s per configuration) must be shorter than --budget ({self.budget:g} s "
                "for the whole sweep)"
            )
        if not _finite(self.target) or not 0 < self.target < 1:
            raise OptionError(f"--target must be between 0 and 1 (0.02 = ±2%), got {self.target}")
        if not _finite(self.confidence) or not 0.5 <= self.confidence < 1:
            raise OptionError(f"confidence must be in [0.5, 1), got {self.confidence}")
        if isinstance(self.min_samples, bool) or not isinstance(self.min_samples, int) or self.min_samples < 1:
            raise OptionError(f"--min-samples (rounds at least) must be an integer >= 1, got {self.min_samples}")
        if self.max_samples is not None and (
            isinstance(self.max_samples, bool)
            or not isinstance(self.max_samples, int)
            or self.max_samples < self.min_samples
        ):
            raise OptionError(
                f"--max-samples (rounds at most) must be an integer >= {self.min_samples}, got {self.max_samples}"
            )
        unknown = set(self.baseline) - {"width", "stem", "input", "head", "threads", "batch", "runtime"}
        if unknown:
            raise OptionError(
                f"--baseline: unknown key {sorted(unknown)[0]!r}; use width, stem, input, head, threads, batch, runtime"
            )


def _finite(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _seconds(option: str, value, *, zero: bool) -> None:
    """A finite number of seconds, > 0 (or >= 0 with ``zero``): NaN, infinity and 1e308 never end."""
    if not _finite(value) or value < 0 or (value == 0 and not zero) or value > MAX_SECONDS:
        bound = ">= 0" if zero else "> 0"
        raise OptionError(f"{option} must be a number of seconds {bound} and <= {MAX_SECONDS:g}, got {value}")


def parse_baseline(text: str | None) -> dict:
    """``width=1.0,stem=2`` -> {'width': 1.0, 'stem': '2'}."""
    out: dict = {}
    if not text:
        return out
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise OptionError(f"--baseline: expected key=value pairs like width=1.0,stem=2, got {part!r}")
        k, v = (s.strip() for s in part.split("=", 1))
        try:
            if k == "width":
                out[k] = float(v)
            elif k in ("threads", "batch"):
                out[k] = int(v)
            else:
                out[k] = v
        except ValueError:
            raise OptionError(f"--baseline: {k} must be a number, got {v!r}") from None
    return out


# -- the grid ----------------------------------------------------------------------------------------------


@dataclass
class Grid:
    model: str
    spec: object
    configs: list[Config]
    baseline: Config
    plans: dict  # plan_key -> Plan

    def counts(self, cfg: Config) -> dict:
        tot = self.plans[cfg.plan_key()].totals()
        return {"params": tot["params"], "madds": tot["madds"]}


def make_grid(opts: SweepOptions) -> Grid:
    """The configurations of a sweep (the product of its dimensions), its baseline and every network's plan."""
    from archlab.spec.table import load_table

    opts.check()
    if opts.module is not None:
        return module_grid(opts)
    spec = load_table(opts.net)
    has_head = spec.head is not None
    dims = _dimensions(opts, spec)
    configs = [
        Config(spec.name, w, s, hw, h, t, b, rt, opts.channels_last)
        for w, s, hw, h, t, b, rt in itertools.product(*dims)
    ]
    baseline = _table_baseline(opts, spec, dims)
    return Grid(spec.name, spec, configs, baseline, _plans(spec, [*configs, baseline], baseline, has_head))


def _dimensions(opts: SweepOptions, spec) -> list[list]:
    """widths, stems, inputs, heads, threads, batches, runtimes: each checked, duplicates merged, in order."""
    from archlab.nn.runtimes import require
    from archlab.spec.rows.head import POOLS

    inputs = [parse_hw(i) for i in (opts.inputs or [fmt_hw(spec.input)])]
    if opts.heads:
        if spec.head is None:
            raise OptionError(f"--heads: {spec.name} has no head to change")
        for h in opts.heads:
            if h not in POOLS:
                raise OptionError(f"--heads: unknown head {h!r}; use {', '.join(POOLS)}")
        heads = list(opts.heads)
    else:
        heads = [spec.head.pool if spec.head is not None else "none"]
    threads = list(opts.threads or DEFAULT_THREADS)
    for t in threads:
        lat.clock_for(t, opts.clock)  # an OptionError for an unknown clock, or cpu at >= 2 threads
    for rt in opts.runtimes:
        require(rt)
    dims = [(float(w) for w in opts.widths), opts.stems, inputs, heads, threads, opts.batches, opts.runtimes]
    return [list(dict.fromkeys(d)) for d in dims]


def _table_baseline(opts: SweepOptions, spec, dims: list[list]) -> Config:
    """The baseline configuration: ``--baseline`` keys, else the first value of each dimension."""
    from archlab.nn.runtimes import require
    from archlab.spec.rows.head import POOLS

    has_head = spec.head is not None
    bl = opts.baseline
    try:
        baseline = Config(
            spec.name,
            float(bl.get("width", 1.0)),
            str(bl.get("stem", "2")),
            parse_hw(bl["input"]) if "input" in bl else dims[2][0],
            bl.get("head", dims[3][0]),
            int(bl.get("threads", dims[4][0])),
            int(bl.get("batch", dims[5][0])),
            bl.get("runtime", dims[6][0]),
            opts.channels_last,
        )
    except ArchlabError as e:
        raise OptionError(f"--baseline: {e}") from None
    if baseline.stem not in STEMS:
        raise OptionError(f"--baseline: unknown stem {baseline.stem!r}; use 2, 1 or 1+pool")
    if baseline.head != "none" and not has_head or has_head and baseline.head not in POOLS:
        raise OptionError(f"--baseline: unknown head {baseline.head!r}")
    require(baseline.runtime)
    return baseline


def _plans(spec, configs: list[Config], baseline: Config, has_head: bool) -> dict:
    """Every distinct network of the grid, expanded once (an error names the configuration)."""
    from archlab.ir.expand import expand
    from archlab.ir.overrides import Overrides

    plans: dict = {}
    for cfg in configs:
        if cfg.plan_key() in plans:
            continue
        try:
            plans[cfg.plan_key()] = expand(spec, Overrides.from_kwargs(**cfg.overrides(has_head)))
        except ArchlabError as e:
            what = "the baseline" if cfg is baseline else "configuration"
            raise type(e)(f"{what} {cfg.label()}: {e}") from None
    return plans


MODULE_STEM = "-"  # a traced module's stem is its own (no --stems): the stem column of its rows


def module_grid(opts: SweepOptions) -> Grid:
    """The grid of a torch module: its inputs x threads x batches x runtimes, each input traced once."""
    from archlab.ir.overrides import parse_hw
    from archlab.nn.runtimes import require
    from archlab.studies.sources import trace_module

    module = opts.module
    given = [
        flag
        for flag, value, default in (("--widths", opts.widths, DEFAULT_WIDTHS), ("--stems", opts.stems, STEMS))
        if tuple(value) != tuple(default)
    ] + (["--heads"] if opts.heads else [])
    given += [f"--baseline {k}" for k in ("width", "stem", "head") if k in opts.baseline]
    if given:
        raise OptionError(f"{opts.net}: {given[0]} needs a table: run `archlab extract` first (then sweep the table)")
    if not opts.inputs:
        raise OptionError(f"{opts.net}: a module needs its input size: --inputs 224x224[,...]")
    for rt in (*opts.runtimes, opts.baseline.get("runtime", opts.runtimes[0])):
        require(rt)
    inputs = list(dict.fromkeys(parse_hw(i) for i in opts.inputs))
    threads = list(dict.fromkeys(opts.threads or DEFAULT_THREADS))
    batches, runtimes = list(dict.fromkeys(opts.batches)), list(dict.fromkeys(opts.runtimes))

    def config(hw, t, b, rt) -> Config:
        return Config(opts.net, 1.0, MODULE_STEM, hw, "none", t, b, rt, opts.channels_last)

    configs = [config(*c) for c in itertools.product(inputs, threads, batches, runtimes)]
    bl = opts.baseline
    try:
        baseline = config(
            parse_hw(bl["input"]) if "input" in bl else inputs[0],
            int(bl.get("threads", threads[0])),
            int(bl.get("batch", batches[0])),
            bl.get("runtime", runtimes[0]),
        )
    except (ArchlabError, ValueError) as e:
        raise OptionError(f"--baseline: {e}") from None
    plans = {}
    for cfg in [*configs, baseline]:
        if cfg.plan_key() not in plans:
            plans[cfg.plan_key()] = trace_module(module, name=opts.net, input=cfg.input)
    return Grid(opts.net, None, configs, baseline, plans)
