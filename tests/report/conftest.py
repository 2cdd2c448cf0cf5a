"""Diagnoses built by hand for the renderer tests: every section filled, long ARNs and commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecsdoctor.models import (
    CheckResult,
    DataGap,
    Diagnosis,
    Evidence,
    FailureGroup,
    Finding,
    Hypothesis,
    Match,
    Severity,
    Signal,
    SignalSource,
    Status,
    Subject,
)

SEED_FILE = (
    Path(__file__).resolve().parents[2]
    / "sample_events/image_pull/network_timeout/describe_tasks_seed.json"
)
REGION = "eu-west-1"
ACCOUNT = "111122223333"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/production-east"
TASK_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/production-east/0123456789abcdef0123456789abcdef"
TASK_DEFINITION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/checkout-service-web:42"
ROUTE_TABLE = "rtb-0a1b2c3d4e5f60718"
REASON = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
    f"ref {ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/checkout-service-web:release-2024-05-01: "
    f'failed to do request: Head "https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/v2/'
    'checkout-service-web/manifests/release-2024-05-01": dial tcp 10.0.248.239:443: i/o timeout'
)
ENDPOINT_COMMAND = (
    "aws ec2 create-vpc-endpoint --vpc-id vpc-0123456789abcdef0 --vpc-endpoint-type Interface "
    f"--service-name com.amazonaws.{REGION}.ecr.dkr --subnet-ids subnet-0123456789abcdef0 "
    "subnet-0fedcba9876543210 --security-group-ids sg-0123456789abcdef0 --private-dns-enabled"
)
SERVICE_COMMAND = (
    f"aws ecs update-service --cluster {CLUSTER_ARN} --service checkout-service-web "
    '--deployment-configuration "deploymentCircuitBreaker={enable=true,rollback=true}"'
)
LONG_SUMMARY = (
    f"Route table {ROUTE_TABLE} of the task's subnet has no 0.0.0.0/0 route and the VPC has no "
    f"com.amazonaws.{REGION}.ecr.dkr interface endpoint, so the image registry "
    f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com cannot be reached from the task."
)


def live_diagnosis() -> Diagnosis:
    """A task diagnosis with two root causes, a consequence, a ruled-out, a gap, a group."""
    endpoint = Finding(
        kind="vpc_endpoint",
        resource=ROUTE_TABLE,
        summary=LONG_SUMMARY,
        evidence=(
            Evidence(ROUTE_TABLE, "ec2:DescribeRouteTables", f"{ROUTE_TABLE} routes: local only."),
            Evidence(
                "vpc-0123456789abcdef0",
                "ec2:DescribeVpcEndpoints",
                f"Interface endpoints: com.amazonaws.{REGION}.ecr.api; none for ecr.dkr.",
            ),
        ),
        remediation=ENDPOINT_COMMAND,
        entry="image_pull.network_timeout",
        hypothesis="no_network_path",
        check="network.ecr_unreachable",
    )
    breaker = Finding(
        kind="deployment",
        resource="checkout-service-web",
        summary="The deployment circuit breaker is off, so the service restarts failing tasks forever.",
        remediation=(
            "Fix the task failure first, then enable the circuit breaker with rollback: "
            f"{SERVICE_COMMAND} (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
            "deployment-circuit-breaker.html)."
        ),
        check="deployment.circuit_breaker",
    )
    return Diagnosis(
        subject=Subject(
            type="task",
            arn=TASK_ARN,
            cluster="production-east",
            service="checkout-service-web",
            region=REGION,
            account=ACCOUNT,
        ),
        signals=(
            Signal(SignalSource.STOPPED_REASON, REASON, at="2024-05-01T10:00:00Z", subject=TASK_ARN),
            Signal(SignalSource.STOP_CODE, "TaskFailedToStart", subject=TASK_ARN),
        ),
        matches=(
            Match("image_pull.network_timeout", 0, {"ip": "10.0.248.239"}, 90, Severity.FAILURE),
            Match("stop_code.task_failed_to_start", 1, {}, 10, Severity.INFO),
        ),
        root_causes=(endpoint, breaker),
        consequences=(
            Finding(
                kind="image",
                resource=TASK_DEFINITION,
                summary="The image could not be pulled: a consequence of the missing endpoint.",
            ),
        ),
        ruled_out=(
            Finding(
                kind="security_group",
                resource="sg-0123456789abcdef0",
                summary="Security group sg-0123456789abcdef0 allows outbound TCP 443.",
            ),
        ),
        checks=(
            CheckResult(
                "network.ecr_unreachable", "vpc_endpoint", ROUTE_TABLE, Status.CONFIRMED, "x"
            ),
        ),
        data_gaps=(
            DataGap(
                "network.network_acl",
                "AccessDenied on ec2:DescribeNetworkAcls",
                "ec2:DescribeNetworkAcls",
            ),
        ),
        hypotheses=(
            Hypothesis(
                "image_pull.network_timeout",
                "no_network_path",
                "The task's subnet has no path to the registry.",
                ("route_table", "vpc_endpoint"),
                ENDPOINT_COMMAND,
                Status.CONFIRMED,
            ),
        ),
        api_calls=23,
        offline=False,
        failure_groups=(
            FailureGroup(
                reason="CannotPullContainerError: ... i/o timeout",
                example=REASON,
                count=7,
                first_seen="2024-05-01T09:00:00Z",
                last_seen="2024-05-01T10:00:00Z",
                tasks=(TASK_ARN,),
                service="checkout-service-web",
                task_definitions=(TASK_DEFINITION,),
                diagnosed_task=TASK_ARN,
                causes=(endpoint.key,),
            ),
        ),
        notes=("the task's network interface is gone; its network settings come from the service",),
        other_problems=(
            Finding(
                kind="log_group",
                resource="/ecs/checkout-service-web",
                summary="Log group /ecs/checkout-service-web does not exist; the task would fail "
                "next at log setup.",
                remediation="aws logs create-log-group --log-group-name /ecs/checkout-service-web "
                f"--region {REGION}",
            ),
        ),
    )


@pytest.fixture
def live() -> Diagnosis:
    return live_diagnosis()


@pytest.fixture
def offline() -> Diagnosis:
    """The README's seed message, saved as describe-tasks output, diagnosed offline."""
    from ecsdoctor.offline import diagnose_events

    return diagnose_events(str(SEED_FILE))
