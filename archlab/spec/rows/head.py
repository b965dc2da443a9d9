"""The head: everything after FMap-end (the last feature map) up to the output vector.

``pool`` reduces FMap-end to a vector:
  - ``gdconv``: global depthwise conv (MobileFaceNets Sec. 3.2): a linear depthwise conv whose kernel equals
    the incoming map, valid padding, + norm, then flatten;
  - ``gap``: global average pooling, then flatten;
  - ``fc``: flatten only (the next linear layer sees every position).
then ``embedding`` (1x1 conv or linear, ``bias`` false unless set, + norm; never scaled by --width) or ``classifier``
([hidden linear -> act ->] dropout -> linear with bias), or neither (the pooled vector is the output).
Layer names: ``head.<pool>.<role>``, ``head.embedding.<role>``, ``head.classifier.<role>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from archlab.errors import ShapeError, TableError
from archlab.spec.fields import ACTS, NORMS, Field, parse_fields, suggest
from archlab.spec.rows.base import Context

POOLS = ("gdconv", "gap", "fc")

HEAD_FIELDS = (
    Field("pool", "choice", "how FMap-end becomes a vector: gdconv, gap or fc", choices=POOLS),
    Field("norm", "choice", "norm after the GDConv and embedding (defaults.norm when omitted)", None, choices=NORMS),
    Field("embedding", "mapping", "{size, layer: linear|conv}: a face-embedding output", None),
    Field("classifier", "mapping", "{classes, dropout}: a classification output", None),
)
EMBEDDING_FIELDS = (
    Field("size", "int", "embedding dimension", min=1),
    Field(
        "layer", "choice", "linear (after flatten) or conv (1x1, before flatten)", "linear", choices=("linear", "conv")
    ),
    Field("bias", "bool", "the embedding layer has a bias", False),
)
CLASSIFIER_FIELDS = (
    Field("classes", "int", "number of classes", min=1),
    Field(
        "hidden",
        "int",
        "a hidden linear layer (with bias) before the classifier, scaled by --width (MobileNetV3: 1280)",
        None,
        min=1,
    ),
    Field("act", "act", "activation after the hidden layer", "hardswish", choices=ACTS),
    Field("dropout", "float", "dropout probability before the linear layer (0: no dropout layer)", 0.0, min=0),
)


@dataclass(frozen=True)
class HeadSpec:
    pool: str
    norm: str | None
    embedding: dict | None  # {'size', 'layer', 'bias'}
    classifier: dict | None  # {'classes', 'dropout'}
    bn_eps: float | None = None  # the table's defaults.bn_eps / bn_momentum (filled in by load_table)
    bn_momentum: float | None = None

    def describe(self) -> str:
        out = self.pool
        if self.embedding:
            out += f" -> embedding {self.embedding['size']} ({self.embedding['layer']})"
        if self.classifier:
            out += f" -> classifier {self.classifier['classes']}"
        return out


def parse_head(raw: dict) -> HeadSpec:
    if not isinstance(raw, dict):
        raise TableError(f"head must be a mapping like {{pool: gap, classifier: {{classes: 1000}}}}, got {raw!r}")
    known = {f.name: f for f in HEAD_FIELDS}
    for key in raw:
        if key not in known:
            raise TableError(
                f"unknown field{suggest(str(key), known)}; allowed: {', '.join(known)}", field=f"head.{key}"
            )
    if raw.get("pool") is None:
        raise TableError("missing value", field="head.pool")
    pool = _sub({"pool": raw["pool"]}, HEAD_FIELDS[:1], "head")["pool"]
    norm = _sub({"norm": raw["norm"]}, HEAD_FIELDS[1:2], "head")["norm"] if raw.get("norm") is not None else None
    emb = raw.get("embedding")
    cls = raw.get("classifier")
    embedding = _sub(emb, EMBEDDING_FIELDS, "head.embedding") if emb is not None else None
    classifier = _sub(cls, CLASSIFIER_FIELDS, "head.classifier") if cls is not None else None
    if embedding and classifier:
        raise TableError("a head has an embedding or a classifier, not both", field="head.classifier")
    if classifier and classifier["dropout"] >= 1:
        raise TableError(f"must be < 1, got {classifier['dropout']}", field="head.classifier.dropout")
    return HeadSpec(pool, norm, embedding, classifier)


def _sub(raw, fields, name) -> dict:
    """Validate a nested mapping; errors name the dotted field, e.g. ``head.embedding.size``."""
    try:
        return parse_fields(raw, fields, what=name)
    except TableError as e:
        e.field = f"{name}.{e.field}" if e.field else name
        raise


def expand_head(head: HeadSpec, ctx: Context) -> None:
    with ctx.row_settings({"bn_eps": head.bn_eps, "bn_momentum": head.bn_momentum}):
        _expand_head(head, ctx)


def _expand_head(head: HeadSpec, ctx: Context) -> None:
    b = ctx.builder
    shape = ctx.shape
    if len(shape) != 3:
        raise ShapeError(f"the head needs a feature map but receives a vector of {shape[0]}", field="pool")
    c, h, w = shape
    norm = head.norm or ctx.norm
    x = ctx.x
    pool = head.pool
    if pool == "gdconv":
        x = b.conv(ctx.name(pool, "dw"), x, c, (h, w), 1, groups=c, padding="valid")
        if norm == "bn":
            x = b.bn(ctx.name(pool, "bn"), x)
    elif pool == "gap":
        x = b.pool(ctx.name(pool, "pool"), x, "global")
    emb = head.embedding
    if emb and emb["layer"] == "conv":
        if pool == "fc":
            raise ShapeError("a conv embedding needs pool gdconv or gap (fc flattens first)", field="embedding.layer")
        x = b.conv(ctx.name("embedding", "conv"), x, emb["size"], 1, bias=emb.get("bias", False))
        if norm == "bn":
            x = b.bn(ctx.name("embedding", "bn"), x)
        ctx.x = b.flatten(ctx.name("embedding", "flatten"), x)
        return
    x = b.flatten(ctx.name(pool, "flatten"), x)
    if emb:
        x = b.linear(ctx.name("embedding", "linear"), x, emb["size"], bias=emb.get("bias", False))
        if norm == "bn":
            x = b.bn(ctx.name("embedding", "bn"), x)
    elif head.classifier:
        if head.classifier.get("hidden"):
            x = b.linear(ctx.name("classifier", "hidden"), x, ctx.channels(head.classifier["hidden"]), bias=True)
            if head.classifier["act"] != "none":
                x = b.act(ctx.name("classifier", "hidden_act"), x, head.classifier["act"])
        p = head.classifier["dropout"]
        if p > 0:
            x = b.dropout(ctx.name("classifier", "dropout"), x, p)
        x = b.linear(ctx.name("classifier", "linear"), x, head.classifier["classes"], bias=True)
    ctx.x = x
