"""Live checks: importing this package registers every check in REGISTRY."""

from ecsdoctor.checks import (
    deployment,
    health,
    iam,
    image,
    load_balancer,
    logs,
    network,
    placement,
    secrets,
)
from ecsdoctor.checks.base import REGISTRY, Check, CheckContext, ServiceContext, run_check

__all__ = [
    "REGISTRY",
    "Check",
    "CheckContext",
    "ServiceContext",
    "deployment",
    "health",
    "iam",
    "image",
    "load_balancer",
    "logs",
    "network",
    "placement",
    "run_check",
    "secrets",
]
