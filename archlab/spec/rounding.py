"""Channel rounding under a width multiplier: the table's ``defaults.round`` rule."""

from __future__ import annotations

from archlab.errors import TableError
from archlab.spec.reprs import bounded_repr


def make_divisible(v: float, divisor: int = 8) -> int:
    """Round to the nearest multiple of ``divisor``, never below it nor more than 10% below ``v``.

    The rule of the MobileNetV2 reference code (torchvision's ``_make_divisible``).
    """
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def parse_round_rule(rule: str) -> tuple[str, int]:
    """``int`` (truncate), ``round`` (nearest) or ``divisibleN`` (make_divisible to N)."""
    if rule in ("int", "round"):
        return rule, 0
    digits = rule[9:] if isinstance(rule, str) and rule.startswith("divisible") else ""
    if digits.isdigit() and len(digits) <= 6 and int(digits) > 0:
        return "divisible", int(digits)
    raise TableError(
        f"expected int, round or divisibleN (e.g. divisible8, N <= 999999), got {bounded_repr(rule)}", field="round"
    )


def round_channels(v: float, rule: str) -> int:
    kind, divisor = parse_round_rule(rule)
    if kind == "int":
        return int(v)
    if kind == "round":
        return int(round(v))
    return make_divisible(v, divisor)
