from archlab.cli.app import app

app(prog_name="archlab")
