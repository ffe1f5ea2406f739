"""`python -m bot` behaves like `salescoach`."""

from bot.cli import main

main()
