"""A recording progress callback (the protocol of archlab.timing.progress) that checks it as it records."""

from __future__ import annotations

from archlab.timing.progress import StepText


class StageRecorder:
    """Records (done, total, what); asserts 0 <= done <= total and that within a stage ``done`` never decreases
    and ``total`` stays the same; ``stages``: the stages in the order they started."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, str]] = []
        self.last: dict[str, tuple[int, int]] = {}

    def __call__(self, done: int, total: int, what: str) -> None:
        assert 0 <= done <= total, (done, total, what)
        stage = StepText.parse(what).stage or ""
        if stage in self.last:
            before, was = self.last[stage]
            assert done >= before and total == was, (stage, (before, was), (done, total), what)
        self.last[stage] = (done, total)
        self.calls.append((done, total, what))

    @property
    def stages(self) -> list[str]:
        return list(dict.fromkeys(StepText.parse(w).stage or "" for _, _, w in self.calls))

    def of(self, stage: str) -> list[tuple[int, int, str]]:
        return [c for c in self.calls if (StepText.parse(c[2]).stage or "") == stage]
