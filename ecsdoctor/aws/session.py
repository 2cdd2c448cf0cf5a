"""Where a diagnosis gets its reader: the caller's, or a live one built as the AWS CLI would.

Region resolution follows the AWS CLI: an explicit region (or the one in the ARN the user gave)
wins, then `AWS_REGION`, then `AWS_DEFAULT_REGION` and the profile's region. The diagnosis
deadline is the explicit one, else `ECSDOCTOR_DEADLINE` (seconds; 0 for none), else 60 s; the
request rate cap likewise `max_rps`, else `ECSDOCTOR_MAX_RPS`, else 10 a second (rate.py).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import boto3.session
import botocore.exceptions

from ecsdoctor.aws.protocol import Reader
from ecsdoctor.aws.rate import max_rps, rate_limit
from ecsdoctor.aws.reader import (
    DEADLINE_ENV,
    DEFAULT_DEADLINE,
    AwsReader,
    assume_role_session,
    validate_region,
)
from ecsdoctor.errors import AwsSetupError, InputError


@dataclass(frozen=True, slots=True)
class AwsAccess:
    """How to reach AWS for one diagnosis: the flags an AWS CLI user already knows."""

    session: boto3.session.Session | None = None
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    role_arn: str | None = None
    deadline: float | None = None  # seconds for the whole diagnosis; None: see deadline_seconds
    max_rps: float | None = None  # requests a second (0: no cap); None: see rate.max_rps


def deadline_seconds(explicit: float | None = None) -> float | None:
    """The diagnosis deadline: `explicit`, else $ECSDOCTOR_DEADLINE, else 60 s; 0 means none."""
    value: float | None = explicit
    if value is None:
        text = os.environ.get(DEADLINE_ENV, "").strip()
        if not text:
            return DEFAULT_DEADLINE
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"{DEADLINE_ENV} must be a number of seconds, not {text!r}") from None
    if math.isnan(value) or value < 0:
        raise InputError(f"the deadline must be 0 (none) or a positive number of seconds: {value}")
    return None if value == 0 or math.isinf(value) else value


def open_reader(access: AwsAccess, region_hint: str | None = None) -> Reader:
    """One read-only reader honouring profile, region (explicit, ARN, environment), endpoint, role.

    `region_hint` is the region of an ARN the user gave; an explicit `--region` still wins.
    The deadline covers the AssumeRole call too.
    """
    deadline = deadline_seconds(access.deadline)
    rate = rate_limit(max_rps(access.max_rps))
    started = time.monotonic()
    session = access.session
    if session is None:
        try:
            session = boto3.session.Session(profile_name=access.profile)
        except botocore.exceptions.ProfileNotFound as err:
            raise AwsSetupError(f"AWS profile {access.profile!r} not found") from err
    chosen = (
        access.region
        or region_hint
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or session.region_name
    )
    if chosen:
        chosen = validate_region(session, chosen, endpoint_url=access.endpoint_url)
    if access.role_arn:
        session = assume_role_session(
            session, access.role_arn, chosen, endpoint_url=access.endpoint_url, deadline=deadline
        )
    if deadline is not None:
        deadline = max(0.0, deadline - (time.monotonic() - started))
    return AwsReader(
        session, region=chosen, endpoint_url=access.endpoint_url, deadline=deadline, rate=rate
    )


def reader_for(
    reader: Reader | None = None,
    *,
    session: boto3.session.Session | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
    region_hint: str | None = None,
    deadline: float | None = None,
) -> Reader:
    """The caller's reader when given (a replay, a recording, a test double), else a live one."""
    if reader is not None:
        return reader
    access = AwsAccess(session, region, profile, endpoint_url, role_arn, deadline)
    return open_reader(access, region_hint)
