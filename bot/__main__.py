"""`python -m bot` behaves like `salescoach`."""

from bot.cli.main import main

main()
