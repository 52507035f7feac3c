"""`python -m bgmigrate` is the `bgmigrate` command."""

from bgmigrate.cli import main

main()
