"""The `cartflow` command line, grouped by noun."""
