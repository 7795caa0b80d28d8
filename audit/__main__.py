from audit.cli import cli

cli()
