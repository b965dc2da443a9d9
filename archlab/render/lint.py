"""Lint findings (``archlab lint``) as a table."""

from __future__ import annotations

from archlab.render.tables import Table


def lint_table(plan, findings) -> tuple[Table, dict]:
    t = Table(f"{plan.model}: lint", ["row", "layer", "rule", "message", "defined at"], drop=["defined at", "layer"])
    for f in findings:
        t.rows.append([f.row, f.layer, f.rule, f.message, f"{f.file}:{f.line}" if f.file else ""])
    t.notes = [f"{len(findings)} finding{'s' if len(findings) != 1 else ''}" if findings else "clean: no findings"]
    data = {
        "schema_version": 1,
        "model": plan.model,
        "options": plan.options,
        "findings": [f.to_dict() for f in findings],
    }
    return t, data
