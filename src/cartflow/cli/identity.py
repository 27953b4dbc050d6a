"""Placeholder: the identity commands are being written."""

import typer

app = typer.Typer(no_args_is_help=True, help="identity commands")
