"""`python -m ecsdoctor`."""

from ecsdoctor.cli import main

main()
