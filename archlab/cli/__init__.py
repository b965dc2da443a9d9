"""The command line: `archlab COMMAND ...` (see archlab.cli.app). Each command parses its options, calls
archlab.api and renders; nothing else."""


def main() -> None:
    """The console entry point: Ctrl-C while the CLI is still loading is "interrupted" too, not a traceback."""
    import sys

    from archlab.cli import interrupts

    interrupts.install()
    try:
        from archlab.cli.app import main as run

        run()
    except KeyboardInterrupt:
        print("archlab: interrupted", file=sys.stderr)
        sys.exit(130)
