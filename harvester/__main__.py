"""`python -m harvester`: the `harvester` command."""

from .cli import main

main()
