"""Records as pandas DataFrames (``to_frame()``): named columns, receptive fields as ``rf``/``jump`` labels
(as the tables print them: ``227``, ``227x195``, ``*`` for a misaligned merge) plus their numbers per axis
(``rf_h``, ``rf_w``, ``jump_h``, ``jump_w``). pandas is imported only here, inside the functions."""

from __future__ import annotations

from archlab.static.receptive import RF, as_number


def rf_columns(rf: RF | None, prefix: str = "") -> dict:
    """The receptive-field columns of one record; empty values when there is none."""
    if rf is None:
        return {f"{prefix}{k}": None for k in ("rf", "jump", "rf_h", "rf_w", "jump_h", "jump_w")}
    return {
        f"{prefix}rf": rf.label(),
        f"{prefix}jump": rf.label("jump"),
        f"{prefix}rf_h": as_number(rf.size[0]),
        f"{prefix}rf_w": as_number(rf.size[1]),
        f"{prefix}jump_h": as_number(rf.jump[0]),
        f"{prefix}jump_w": as_number(rf.jump[1]),
    }


def shape_text(shape) -> str | None:
    return None if shape is None else "x".join(str(v) for v in shape)


def frame(records: list[dict], columns: list[str] | None = None):
    """A DataFrame of ``records`` (dicts) with ``columns`` in that order (default: the first record's keys).
    A column of integers with gaps (a row only one side of a diff has) stays integer (pandas ``Int64``)."""
    import pandas as pd

    df = pd.DataFrame.from_records(records, columns=columns)
    for col in df.columns:
        values = [r.get(col) for r in records if r.get(col) is not None]
        gaps = len(values) < len(records)
        if gaps and values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            df[col] = df[col].astype("Int64")
    return df
