"""The command line: one Typer app, one small module per command, heavy imports inside commands."""
