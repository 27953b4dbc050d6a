"""Placeholder: the simulate command is being written."""

import typer


def simulate(scenario: str = typer.Argument(..., help="scenario YAML file")) -> None:
    """Run a capacity simulation (not yet available)."""
    raise typer.Exit(2)
