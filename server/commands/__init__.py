"""The `vitrina` subcommands, one module per area."""
