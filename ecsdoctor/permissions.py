"""The least-privilege IAM policy, derived from what the code declares it reads.

Three declarations make the whole set: each check's `reads=`, `SNAPSHOT_READS` (what reading a task
and its network costs) and `SERVICE_READS` (services, stopped tasks, load balancers), plus the
caller-identity read. A test parses every `reader.call` / `reader.pages` in the package and
requires the set it finds to equal this one, so the policy is exactly what the code can send.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ecsdoctor.checks import REGISTRY, declared_reads
from ecsdoctor.service import SERVICE_READS
from ecsdoctor.snapshot import SNAPSHOT_READS

#: Read by the reader itself: the account id of the caller (to build ARNs).
IDENTITY_READS = ("sts:GetCallerIdentity",)
#: The role name ecsdoctor assumes in other accounts unless told otherwise (deploy/ creates it).
DEFAULT_ROLE_PATTERN = "arn:aws:iam::*:role/ecsdoctor-readonly"


def required_actions() -> frozenset[str]:
    """Every read-only action ecsdoctor can send (sts:AssumeRole is separate and scoped)."""
    return declared_reads() | frozenset(SNAPSHOT_READS + SERVICE_READS + IDENTITY_READS)


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
