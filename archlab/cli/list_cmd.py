"""`archlab list`: the shipped networks with their sizes and published figures."""

from __future__ import annotations

from archlab.cli.common import FormatOpt, OutputOpt, user_errors

HELP = "List the shipped networks: input size, params, MAdds, the published figures and a description."
EPILOG = "Example: archlab list --format md"


def list_records() -> list[dict]:
    from archlab import registry
    from archlab.api import load_table
    from archlab.expand import expand

    out = []
    for name in registry.names():
        spec = load_table(name)
        plan = expand(spec)
        tot = plan.totals()
        pub = {k: v for k, v in spec.published.items() if k != "note"}
        out.append({"name": name, "input": list(plan.input), "params": tot["params"],
                    "params_deployed": tot["params_deployed"], "madds": tot["madds"], "published": pub,
                    "description": spec.description})
    return out


@user_errors
def list_networks(format: FormatOpt = "table", output: OutputOpt = None) -> None:
    from archlab.render.output import emit
    from archlab.render.tables import Table, shape_str

    records = list_records()
    t = Table("networks", ["name", "input", "params", "params_deployed", "madds", "published", "description"],
              numeric={"params", "params_deployed", "madds"})
    for r in records:
        pub = ", ".join(f"{k} {v:,}" for k, v in r["published"].items())
        t.rows.append([r["name"], shape_str(r["input"]), r["params"], r["params_deployed"], r["madds"], pub,
                       r["description"]])
    fmt = format.value if hasattr(format, "value") else format
    emit([t], {"schema_version": 1, "networks": records}, fmt, str(output) if output else None)
