"""The least-privilege IAM policy, derived from what the code declares it reads.

The declarations make the whole set: each check's `reads=`, `SNAPSHOT_READS` (a task and its
network), `SERVICE_READS` (services, stopped tasks, load balancers), `REPORT_READS` (archived
events, configuration changes) and the caller-identity read. A test parses every `reader.call` /
`reader.pages` in the package and requires the set it finds to equal this one, so the policy is
exactly what the code can send.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ecsdoctor.checks import REGISTRY, declared_reads
from ecsdoctor.incident.reads import REPORT_READS
from ecsdoctor.service import SERVICE_READS
from ecsdoctor.snapshot import SNAPSHOT_READS

#: Read by the reader itself: the account id of the caller (to build ARNs).
IDENTITY_READS = ("sts:GetCallerIdentity",)
#: The role name ecsdoctor assumes in other accounts unless told otherwise (deploy/ creates it).
DEFAULT_ROLE_PATTERN = "arn:aws:iam::*:role/ecsdoctor-readonly"


def required_actions() -> frozenset[str]:
    """Every read-only action ecsdoctor can send (sts:AssumeRole is separate and scoped)."""
    return declared_reads() | frozenset(
        SNAPSHOT_READS + SERVICE_READS + IDENTITY_READS + REPORT_READS
    )


def policy_document(assume_role_arns: Sequence[str] = ()) -> dict[str, Any]:
    """The IAM policy `ecsdoctor permissions` prints: reads on *, AssumeRole only on named roles."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcsDoctorReadOnly",
                "Effect": "Allow",
                "Action": sorted(required_actions()),
                "Resource": "*",
            },
            {
                "Sid": "EcsDoctorAssumeReadOnlyRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": sorted(assume_role_arns) or [DEFAULT_ROLE_PATTERN],
            },
        ],
    }


def degradation_table() -> list[tuple[str, tuple[str, ...], str]]:
    """(check id, reads, definition) for every check: what a denied read costs, in the docs."""
    return [
        (c.id, c.reads, c.doc.splitlines()[0])
        for c in sorted(REGISTRY.values(), key=lambda c: c.id)
    ]


def permissions_markdown() -> str:
    """docs/permissions.md: the policy, and which check turns into a data gap without which read."""
    lines = [
        "# Permissions",
        "",
        "`ecsdoctor permissions` prints the least-privilege policy: exactly the read-only operations",
        "the code can send (a test parses every AWS call in the package and compares), plus",
        "`sts:AssumeRole` in its own statement, scoped to the roles given with `--role-arn` (default",
        f"`{DEFAULT_ROLE_PATTERN}`, the role `deploy/` creates in member accounts).",
        "",
        "Every read is optional: a denied read never ends a diagnosis. The checks that need it",
        "become *inconclusive* and the report lists a data gap naming the missing permission.",
        "Reading the task itself (`ecs:DescribeTasks`) or the service is the one exception: without",
        "it there is nothing to diagnose (exit 3).",
        "",
        "## What each check reads (what degrades to a data gap without it)",
        "",
        "| check | reads | what it proves |",
        "| --- | --- | --- |",
    ]
    for check_id, reads, doc in degradation_table():
        shown = ", ".join(f"`{r}`" for r in reads) or "nothing beyond the task and its definition"
        lines.append(f"| `{check_id}` | {shown} | {doc} |")
    lines += [
        "",
        "## Read by every diagnosis",
        "",
        "Task and network: " + ", ".join(f"`{r}`" for r in SNAPSHOT_READS) + ".",
        "",
        "Services, stopped tasks, load balancers: "
        + ", ".join(f"`{r}`" for r in SERVICE_READS)
        + ".",
        "",
        "Reports (`ecsdoctor report`): " + ", ".join(f"`{r}`" for r in REPORT_READS) + ".",
        "",
    ]
    return "\n".join(lines)
