"""`python -m bgmigrate.execute apply|approve|status|rollback …`: the executor commands alone."""

from bgmigrate.cli.execute import app

app(prog_name="bgmigrate")
