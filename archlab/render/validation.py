"""The result of ``archlab validate``: every error of a table file, or its size when it is valid."""

from __future__ import annotations


def validation_data(file: str, errors: list, plan) -> dict:
    data = {
        "file": file,
        "valid": not errors,
        "errors": [
            {"message": e.message, "file": e.file, "line": e.line, "row": e.row, "field": e.field, "text": str(e)}
            for e in errors
        ],
    }
    if plan is not None:
        data["layers"] = len(plan.layers)
        data.update({k: v for k, v in plan.totals().items() if k in ("params", "madds")})
    return data


def validation_lines(file: str, errors: list, plan) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines)."""
    if not errors:
        t = plan.totals()
        return [
            f"ok: {file}: {len(plan.rows)} rows, {len(plan.layers)} layers, params {t['params']:,}, "
            f"MAdds {t['madds']:,}"
        ], []
    err = [f"archlab: error: {e}" for e in errors]
    return [], err + [f"{len(errors)} error{'s' if len(errors) > 1 else ''} in {file}"]
