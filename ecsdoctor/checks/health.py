"""The container health check command, for tasks stopped because a container turned unhealthy."""

from __future__ import annotations

from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status

_FORMS = ("CMD", "CMD-SHELL", "NONE")
#: Knowledge entries that say a container health check failed.
HEALTH_CHECK_ENTRIES = frozenset(
    {"health.container_health_check_failed", "service_event.container_health_checks_failed"}
)


def _unhealthy(ctx: CheckContext) -> set[str]:
    """Containers the task reports UNHEALTHY, or all if the task stopped for health checks."""
    task = ctx.snap.task
    names = {
        str(c.get("name"))
        for c in task.get("containers") or []
        if c.get("healthStatus") == "UNHEALTHY"
    }
    if ctx.matched & HEALTH_CHECK_ENTRIES:
        names |= {str(c.get("name")) for c in ctx.snap.containers if c.get("healthCheck")}
    return names


@check(Kind.CONTAINER_HEALTH_CHECK, reads=(), rank=40)
def health_check_command(ctx: CheckContext) -> list[CheckResult]:
    """The container health check command is malformed, so it can never succeed."""
    names = _unhealthy(ctx)
    if not names:
        return []
    snap = ctx.snap
    out: list[CheckResult] = []
    for container in snap.containers:
        name = str(container.get("name"))
        health = container.get("healthCheck") or {}
        command = [str(part) for part in health.get("command") or []]
        if name not in names or not command:
            continue
        resource = f"{snap.task_definition_arn}#{name}"
        problems: list[str] = []
        if command[0] not in _FORMS:
            problems.append(
                "its first element is not CMD, CMD-SHELL or NONE, so the agent cannot run it"
            )
        elif command[0] == "CMD-SHELL" and len(command) > 2:
            problems.append(
                f"CMD-SHELL is followed by {len(command) - 1} strings; the shell runs only the "
                "first and drops the rest"
            )
        elif len(command) == 1 and command[0] != "NONE":
            problems.append(f"{command[0]} is given no command to run")
        timeout = int(health.get("timeout") or 5)
        interval = int(health.get("interval") or 30)
        # Describe the command, never quote it: health checks often carry credentials.
        form = command[0] if command[0] in _FORMS else "an unknown form of"
        shown = f"{form} command of {len(command)} element(s)"
        evidence = (
            Evidence(
                resource,
                "ecs:DescribeTaskDefinition",
                f"healthCheck is {shown}; interval {interval} s, timeout {timeout} s, "
                f"retries {health.get('retries') or 3}, startPeriod {health.get('startPeriod') or 0} s.",
            ),
        )
        out.append(
            ctx.result(
                Kind.CONTAINER_HEALTH_CHECK,
                resource,
                Status.CONFIRMED if problems else Status.RULED_OUT,
                (
                    f"Container {name}'s health check is malformed: " + "; ".join(problems) + "."
                    if problems
                    else f"Container {name}'s health check command is well formed; it failed "
                    "when run (the tool it calls may be missing from the image, or the "
                    "application did not answer in time)."
                ),
                evidence,
                remediation=(
                    'Use ["CMD-SHELL", "curl -f http://localhost:PORT/health || exit 1"] (one '
                    "string after CMD-SHELL), and make sure the image contains the tool it calls."
                )
                if problems
                else None,
            )
        )
    return out


__all__ = ["health_check_command"]
