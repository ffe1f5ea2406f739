"""The `salescoach` command line, one module per subcommand family; `main` builds the parser."""
