"""Live checks: importing this package registers every check in REGISTRY."""

from ecsdoctor.checks import iam, image, logs, network, secrets
from ecsdoctor.checks.base import REGISTRY, Check, CheckContext, run_check

__all__ = [
    "REGISTRY",
    "Check",
    "CheckContext",
    "iam",
    "image",
    "logs",
    "network",
    "run_check",
    "secrets",
]
