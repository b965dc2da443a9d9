"""Print params and fvcore conv+linear MAdds of every reference model against the expected figures.

Run from the repository root:  .venv/bin/python tests/reference_models/check_sizes.py [name ...]
Exit status 1 if any figure or output shape differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `tests.reference_models` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402

from tests.reference_models import SPECS  # noqa: E402
from tests.reference_models.insightface_style import ARCFACE_MBF_PARAMS, arcface_mbf  # noqa: E402
from tests.reference_models.measure import measure, param_count  # noqa: E402


def main(names: list[str]) -> int:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    failures = 0
    print(f"{'model':27s} {'input':>5s} {'params':>12s}  {'conv+linear MAdds':>17s}  output       status")
    for name in names or list(SPECS):
        spec = SPECS[name]
        got = measure(spec.build(), spec.input)
        bad = [f"{k} expected {getattr(spec, k):,}" for k in ("params", "madds") if got[k] != getattr(spec, k)]
        if got["output"] != spec.output:
            bad.append(f"output expected {spec.output}")
        failures += bool(bad)
        print(
            f"{name:27s} {spec.input:>5d} {got['params']:>12,}  {got['madds']:>17,}  {str(got['output']):12s} "
            f"{'ok' if not bad else 'MISMATCH: ' + '; '.join(bad)}"
        )

    if not names or "arcface_mbf" in names:
        model = arcface_mbf()
        print("\narcface_mbf parameters per top-level module (hand derivation vs model):")
        for prefix, expected in ARCFACE_MBF_PARAMS.items():
            got = param_count(model.get_submodule(prefix))
            failures += got != expected
            print(f"  {prefix:10s} {expected:>9,} {got:>9,} {'ok' if got == expected else 'MISMATCH'}")
    print("\nall figures reproduce" if not failures else f"\n{failures} mismatch(es)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
