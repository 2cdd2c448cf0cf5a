"""`python -m ecsdoctor`."""

from ecsdoctor.console import main

main()
