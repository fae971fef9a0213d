"""Subcommands: each module has NAME, HELP, add_arguments(parser) and run(args) -> exit code."""
