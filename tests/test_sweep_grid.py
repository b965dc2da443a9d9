"""archlab.studies.sweep_grid.SweepOptions.check: every option finite and in range before anything runs (issue 15:
`--warmup inf` or `1e9` ignored the budget and ran for ever, `--warmup nan` was accepted, `--inputs 16x` named
`--input`)."""

import csv
import math

import pytest

from archlab import api
from archlab.errors import OptionError
from archlab.studies.sweep_grid import SweepOptions
from archlab.timing.machine import usable_cpus
from tests.helpers.bounded import write_tiny


@pytest.mark.parametrize(
    "options, message",
    [
        ({"warmup": math.inf}, "--warmup must be a number of seconds >= 0"),
        ({"warmup": math.nan}, "--warmup must be a number of seconds >= 0"),
        ({"warmup": 1e9}, "--warmup must be a number of seconds >= 0"),
        ({"warmup": -1}, "--warmup must be a number of seconds >= 0"),
        ({"warmup": 300.0, "budget": 240.0}, "--warmup .* must be shorter than --budget"),
        ({"budget": math.inf}, "--budget must be a number of seconds > 0"),
        ({"budget": math.nan}, "--budget must be a number of seconds > 0"),
        ({"budget": 0}, "--budget must be a number of seconds > 0"),
        ({"budget": 1e308}, "--budget must be a number of seconds > 0"),
        ({"target": math.nan}, "--target must be between 0 and 1"),
        ({"target": math.inf}, "--target must be between 0 and 1"),
        ({"confidence": math.nan}, "confidence must be in"),
        ({"min_samples": 0}, "--min-samples"),
        ({"max_samples": 1}, "--max-samples"),
        ({"widths": (math.inf,)}, "--widths: every width must be > 0 and <= 1024"),
        ({"widths": (math.nan,)}, "--widths"),
        ({"inputs": ("16x",)}, "--inputs: every input size must look like 112x96"),
        ({"threads": (0,)}, "--threads"),
        ({"batches": (0,)}, "--batch"),
    ],
)
def test_bad_options_are_refused_naming_the_option(options, message):
    with pytest.raises(OptionError, match=message):
        SweepOptions("mobilefacenet", **options).check()


def test_good_options_pass():
    SweepOptions("mobilefacenet", warmup=0, budget=1.5, target=0.05, inputs=("112x96",), threads=(1,)).check()


@pytest.mark.parametrize("value", ["inf", "nan", "1e9"])
def test_cli_warmup_is_refused_at_once(cli, tmp_path, value):
    result = cli("sweep", write_tiny(tmp_path), "--warmup", value, "--budget", "5")
    expected = "--warmup must be" if value == "1e9" else f"'--warmup': '{value}' is not a finite number"
    assert result.exit_code == 2 and expected in result.output


def test_cli_inputs_names_the_option(cli, tmp_path):
    result = cli("sweep", write_tiny(tmp_path), "--inputs", "16x")
    assert result.exit_code == 2 and "--inputs:" in result.output and "--input " not in result.output


@pytest.mark.slow
def test_threads_above_the_cpus_are_capped_in_the_grid(tmp_path):
    out = tmp_path / "s.csv"
    with pytest.warns(Warning, match="capped at the"):
        result = api.sweep(
            str(write_tiny(tmp_path)),
            out=out,
            widths=(1.0,),
            stems=("2",),
            threads=(1, 1_000_000),
            budget=3,
            warmup=0.02,
            seed=0,
        )
    assert result.status == "complete"
    with open(out, newline="", encoding="utf-8") as f:
        threads = sorted({int(r["threads"]) for r in csv.DictReader(f)})
    assert threads == sorted({1, usable_cpus()})
