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
from ecsdoctor.checks.base import (
    REGISTRY,
    AnyCheck,
    Check,
    CheckContext,
    Scope,
    ServiceContext,
    check_id_of,
    checks_in,
    declared_reads,
    service_checks,
    task_checks,
)

__all__ = [
    "REGISTRY",
    "AnyCheck",
    "Check",
    "CheckContext",
    "Scope",
    "ServiceContext",
    "check_id_of",
    "checks_in",
    "declared_reads",
    "deployment",
    "health",
    "iam",
    "image",
    "load_balancer",
    "logs",
    "network",
    "placement",
    "secrets",
    "service_checks",
    "task_checks",
]
