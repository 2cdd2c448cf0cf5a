"""Service deployment settings that turn a task failure into an outage or a stuck rollout."""

from __future__ import annotations

import math

from ecsdoctor.checks.base import ServiceContext, check
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, FailureGroup, Status

_DESCRIBE = "ecs:DescribeServices"


def failed_task_count(ctx: ServiceContext) -> int:
    """Failed tasks seen: stopped tasks ECS still holds, or the deployments' failedTasks."""
    stopped = sum(g.count for g in ctx.groups)
    counted = max((int(d.get("failedTasks") or 0) for d in ctx.svc.deployments), default=0)
    return max(stopped, counted)


@check(Kind.SERVICE_DEPLOYMENT, reads=(), rank=95)
def circuit_breaker_disabled(ctx: ServiceContext) -> list[CheckResult]:
    """Tasks keep failing and the deployment circuit breaker is off, so ECS retries forever."""
    svc = ctx.svc
    failed = failed_task_count(ctx)
    if svc.controller != "ECS" or failed == 0:
        return []
    breaker = svc.deployment_configuration.get("deploymentCircuitBreaker") or {}
    setting = Evidence(
        svc.arn,
        _DESCRIBE,
        f"deploymentConfiguration.deploymentCircuitBreaker = enable: "
        f"{bool(breaker.get('enable'))}, rollback: {bool(breaker.get('rollback'))}; "
        f"{failed} failed task(s) seen.",
    )
    if breaker.get("enable"):
        rollback = "and rolls back" if breaker.get("rollback") else "(without rollback)"
        return [
            ctx.result(
                Kind.SERVICE_DEPLOYMENT,
                svc.arn,
                Status.RULED_OUT,
                f"Service {svc.name} has the deployment circuit breaker on: a deployment whose "
                f"tasks keep failing is stopped {rollback}.",
                (setting,),
            )
        ]
    return [
        ctx.result(
            Kind.SERVICE_DEPLOYMENT,
            svc.arn,
            Status.CONFIRMED,
            f"Service {svc.name} has the deployment circuit breaker disabled, so ECS keeps "
            f"launching replacement tasks that fail ({failed} failed so far) instead of stopping "
            "the deployment and rolling back; this keeps the outage going, it does not cause it.",
            (setting,),
            remediation=(
                f"Fix the task failure first, then enable the circuit breaker with rollback: aws ecs "
                f"update-service --cluster {svc.cluster_arn} --service {svc.name} "
                '--deployment-configuration "deploymentCircuitBreaker={enable=true,rollback=true}" '
                "(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html)."
            ),
        )
    ]


@check(Kind.SERVICE_DEPLOYMENT, reads=(), rank=40)
def deployment_deadlock(ctx: ServiceContext) -> list[CheckResult]:
    """minimumHealthyPercent and maximumPercent leave a rolling deployment no room to move."""
    svc = ctx.svc
    if svc.controller != "ECS" or svc.scheduling != "REPLICA" or svc.desired <= 0:
        return []
    config = svc.deployment_configuration
    minimum = int(config.get("minimumHealthyPercent", 100))
    maximum = int(config.get("maximumPercent", 200))
    desired = svc.desired
    # ECS rounds the lower limit up and the upper limit down (documented).
    keep = math.ceil(desired * minimum / 100)
    ceiling = math.floor(desired * maximum / 100)
    evidence = Evidence(
        svc.arn,
        _DESCRIBE,
        f"desiredCount {desired}, minimumHealthyPercent {minimum}% (keep at least {keep} "
        f"running), maximumPercent {maximum}% (at most {ceiling} running or pending).",
    )
    if keep < desired or ceiling > desired:
        return [
            ctx.result(
                Kind.SERVICE_DEPLOYMENT,
                svc.arn,
                Status.RULED_OUT,
                f"Service {svc.name} can replace tasks: it may stop down to {keep} or start up to "
                f"{ceiling} tasks for {desired} desired.",
                (evidence,),
            )
        ]
    rolling = len(svc.deployments) > 1 or (svc.primary or {}).get("rolloutState") == "IN_PROGRESS"
    if not rolling:
        return []
    return [
        ctx.result(
            Kind.SERVICE_DEPLOYMENT,
            svc.arn,
            Status.CONFIRMED,
            f"Service {svc.name}'s deployment cannot progress: with {desired} desired, "
            f"minimumHealthyPercent {minimum}% forbids stopping an old task and maximumPercent "
            f"{maximum}% forbids starting a new one.",
            (evidence,),
            remediation=(
                f"Lower minimumHealthyPercent or raise maximumPercent on service {svc.name} so "
                f"that ceil(desired x min%) < desired or floor(desired x max%) > desired (for "
                "example 100% / 200%), e.g. aws ecs update-service --deployment-configuration "
                '"minimumHealthyPercent=100,maximumPercent=200".'
            ),
        )
    ]


#: Knowledge entries that say a load balancer health check failed (a stopped task or an event).
ELB_HEALTH_ENTRIES = frozenset(
    {
        "health.elb_health_check_failed",
        "service_event.target_unhealthy",
        "service_event.target_unhealthy_status_code",
        "service_event.target_unhealthy_timeout",
    }
)


def _elb_groups(ctx: ServiceContext) -> list[FailureGroup]:
    """Failure groups whose tasks were stopped by load balancer health checks."""
    return [
        g for g in ctx.groups if ctx.group_entries.get(g.reason, frozenset()) & ELB_HEALTH_ENTRIES
    ]


def _elb_failures(ctx: ServiceContext) -> int:
    """Tasks stopped, or events raised, because load balancer health checks failed."""
    stopped = sum(g.count for g in _elb_groups(ctx))
    events = sum(1 for entry in ctx.event_entries if entry in ELB_HEALTH_ENTRIES)
    return stopped + events


@check(Kind.SERVICE, reads=(), rank=30)
def grace_period_too_short(ctx: ServiceContext) -> list[CheckResult]:
    """Load balancer health checks count against tasks before the application can answer them."""
    svc = ctx.svc
    if not svc.load_balancers:
        return []
    failures = _elb_failures(ctx)
    if not failures:
        return []
    grace = svc.grace_period or 0
    container = svc.container_definition(svc.load_balancers[0].get("containerName"))
    health = (container or {}).get("healthCheck") or {}
    start_period = int(health.get("startPeriod") or 0)
    ran = [g.ran_for for g in _elb_groups(ctx) if g.ran_for is not None]
    facts = [
        f"healthCheckGracePeriodSeconds {grace} s"
        + (" (not set)" if svc.grace_period is None else ""),
        f"{failures} load balancer health check failure(s) in stopped tasks and events",
    ]
    if start_period:
        facts.append(
            f"container {container.get('name') if container else '?'} declares a health check "
            f"startPeriod of {start_period} s"
        )
    if ran:
        facts.append(f"the replaced tasks ran for about {int(min(ran))} s before being stopped")
    evidence = (
        Evidence(svc.arn, _DESCRIBE + ", ecs:DescribeTaskDefinition", "; ".join(facts) + "."),
    )
    if start_period > grace:
        return [
            ctx.result(
                Kind.SERVICE,
                svc.arn,
                Status.CONFIRMED,
                f"Service {svc.name} gives tasks a {grace} s health check grace period but its "
                f"container needs {start_period} s to start (its own health check startPeriod), "
                "so load balancer health checks fail before the application is ready.",
                evidence,
                remediation=(
                    f"aws ecs update-service --cluster {svc.cluster_arn} --service {svc.name} "
                    f"--health-check-grace-period-seconds {max(start_period * 2, 60)} (above the "
                    "application's startup time)."
                ),
            )
        ]
    if grace and ran and grace >= max(ran):
        return [
            ctx.result(
                Kind.SERVICE,
                svc.arn,
                Status.RULED_OUT,
                f"Service {svc.name}'s {grace} s grace period outlasted the failed tasks' run "
                "time: the health checks failed for another reason.",
                evidence,
            )
        ]
    return [
        ctx.result(
            Kind.SERVICE,
            svc.arn,
            Status.INCONCLUSIVE,
            f"Service {svc.name} has a {grace} s grace period; whether the application needs "
            "longer to start cannot be told from AWS alone (compare with its startup log).",
            evidence,
        )
    ]


__all__ = ["circuit_breaker_disabled", "deployment_deadlock", "grace_period_too_short"]
