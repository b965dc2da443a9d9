"""Memory from the plan: per-layer output bytes, peak activation memory of inference, model size.

The liveness rule (``PEAK_RULE``) walks the plan in execution order, the order of the built module's
``forward``: every layer writes a new tensor, except the ops the op table marks as aliasing (``flatten``,
``dropout``, ``droppath``: the identity in eval mode or a view; ``slice``: a channel range of its input, a view),
whose output shares its input's storage. While a layer runs, its inputs and its output are alive.
A storage is freed right after the last layer that reads it or any tensor sharing it, so a residual branch's
input stays alive until its add, and a channel split's input until the readers of every part have run; the
network outputs are never freed. The network input is freed after its last reader
(``keep_input=False``, what an inference engine does) or held for the whole pass (``keep_input=True``, what
PyTorch does when the caller keeps a reference, which is what :func:`archlab.nn.memory_probe.measure_peak` observes).

Pure Python; :mod:`archlab.nn.memory_probe` measures what PyTorch keeps alive, to check this rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archlab.ir.layer import INPUT, numel
from archlab.ir.ops import ALIASING_OPS, op_of
from archlab.ir.plan import Plan
from archlab.spec.bulk import paused_gc

PEAK_RULE = (
    "peak of the bytes alive while each layer runs (its inputs + its output + every tensor still to be read), "
    "layers in execution order; a tensor is freed after its last reader (residual inputs stay alive until "
    f"their add), network outputs are kept, {'/'.join(ALIASING_OPS)} alias their input (a split's input lives "
    "until every part is read); input freed after its last reader"
)
WEIGHT_BYTES = {"fp32": 4, "fp16": 2, "int8": 1}
ACTIVATION_DTYPE = "fp32"


@dataclass(frozen=True)
class LayerMemory:
    name: str
    out_elements: int  # per batch
    out_bytes: int  # per batch; 0 when the output aliases its input (slice, droppath, flatten, dropout)
    live_bytes: int  # bytes alive while this layer runs


@dataclass(frozen=True)
class MemoryReport:
    model: str
    batch: int
    dtype: str  # activation dtype
    bytes_per_element: int
    input_bytes: int
    keep_input: bool
    layers: tuple[LayerMemory, ...]
    peak_bytes: int
    peak_layer: str
    peak_tensors: tuple[str, ...]  # the tensors alive at the peak
    params: int
    params_deployed: int
    uncounted: dict = field(default_factory=dict)  # ops without a rule (sized here by their measured outputs)

    @property
    def model_bytes(self) -> dict:
        """Weight bytes per storage type: trainable params and deployed params (BN folded)."""
        return {
            dt: {"params": self.params * b, "params_deployed": self.params_deployed * b}
            for dt, b in WEIGHT_BYTES.items()
        }

    def layer(self, name: str) -> LayerMemory:
        for m in self.layers:
            if m.name == name:
                return m
        raise KeyError(name)

    def to_dict(self) -> dict:
        with paused_gc():  # a dict per layer
            return self._to_dict()

    def _to_dict(self) -> dict:
        return {
            "activation_dtype": self.dtype,
            "bytes_per_element": self.bytes_per_element,
            "batch": self.batch,
            "rule": PEAK_RULE
            if not self.keep_input
            else PEAK_RULE.replace("input freed after its last reader", "input held for the whole pass"),
            "input_bytes": self.input_bytes,
            "peak_bytes": self.peak_bytes,
            "peak_bytes_per_image": self.peak_bytes // self.batch,
            "peak_layer": self.peak_layer,
            "peak_tensors": list(self.peak_tensors),
            "model_bytes": self.model_bytes,
            "model_bytes_rule": "weights only: count x bytes per weight (fp32 4, fp16 2, int8 1); no "
            "quantisation scales, BN running statistics or file overhead",
            "layers": [{"name": m.name, "out_bytes": m.out_bytes, "live_bytes": m.live_bytes} for m in self.layers],
            "uncounted": dict(self.uncounted),
        }


def memory(plan: Plan, batch: int = 1, *, bytes_per_element: int = 4, keep_input: bool = False) -> MemoryReport:
    """Per-layer output bytes and the peak activation memory of one inference pass (see ``PEAK_RULE``)."""
    with paused_gc():  # one record per layer: hundreds of thousands for a large table, none in a cycle
        return _memory(plan, batch, bytes_per_element, keep_input)


def _memory(plan: Plan, batch: int, bytes_per_element: int, keep_input: bool) -> MemoryReport:
    layers = plan.layers
    outputs = set(getattr(plan, "outputs", ()) or (plan.output,))
    # storage: which allocation a tensor lives in (aliases share their input's)
    storage = {INPUT: INPUT}
    size = {INPUT: numel(plan.input) * batch * bytes_per_element}
    for layer in layers:
        if op_of(layer.op, layer.kind).aliases:
            storage[layer.name] = storage[layer.inputs[0]]
        else:
            storage[layer.name] = layer.name
            size[layer.name] = numel(layer.out_shape) * batch * bytes_per_element
    # last step at which each storage is read (or must survive: outputs, a kept input)
    end = len(layers)
    last = {s: -1 for s in size}
    for i, layer in enumerate(layers):
        last[storage[layer.name]] = max(last[storage[layer.name]], i)
        for src in layer.inputs:
            last[storage[src]] = max(last[storage[src]], i)
    for name in outputs:
        last[storage[name]] = end
    if keep_input:
        last[INPUT] = end

    free_at: dict[int, list[str]] = {}  # step -> the storages freed after it (a running total, not a sum per
    for s, step in last.items():  # layer: a table whose rows all stay alive made that quadratic)
        free_at.setdefault(max(step, 0), []).append(s)
    live: dict[str, int] = {INPUT: size[INPUT]}
    current = size[INPUT]
    owner = {INPUT: INPUT}  # storage -> a tensor name for display
    peak, peak_layer, peak_set = size[INPUT], INPUT, tuple[str, ...]((INPUT,))
    records = []
    for i, layer in enumerate(layers):
        s = storage[layer.name]
        if s not in live:
            live[s] = size[s]
            current += size[s]
            owner[s] = layer.name
        if current > peak:
            peak, peak_layer, peak_set = current, layer.name, tuple(owner[k] for k in live)
        out_bytes = size[layer.name] if s == layer.name else 0
        records.append(LayerMemory(layer.name, numel(layer.out_shape) * batch, out_bytes, current))
        for k in free_at.get(i, ()):
            if k in live:
                current -= live.pop(k)
    tot = plan.totals()
    return MemoryReport(
        plan.model,
        batch,
        ACTIVATION_DTYPE if bytes_per_element == 4 else f"{bytes_per_element}B",
        bytes_per_element,
        size[INPUT],
        keep_input,
        tuple(records),
        peak,
        peak_layer,
        peak_set,
        tot["params"],
        tot["params_deployed"],
        plan.uncounted() if hasattr(plan, "uncounted") else {},
    )
