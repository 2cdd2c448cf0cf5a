"""Where a diagnosis gets its reader: the caller's, or a live one built as the AWS CLI would.

Region resolution follows the AWS CLI: an explicit region (or the one in the ARN the user gave)
wins, then `AWS_REGION`, then `AWS_DEFAULT_REGION` and the profile's region.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import boto3.session
import botocore.exceptions

from ecsdoctor.aws.protocol import Reader
from ecsdoctor.aws.reader import AwsReader, assume_role_session, validate_region
from ecsdoctor.errors import AwsSetupError


@dataclass(frozen=True, slots=True)
class AwsAccess:
    """How to reach AWS for one diagnosis: the flags an AWS CLI user already knows."""

    session: boto3.session.Session | None = None
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    role_arn: str | None = None


def open_reader(access: AwsAccess, region_hint: str | None = None) -> Reader:
    """One read-only reader honouring profile, region (explicit, ARN, environment), endpoint, role.

    `region_hint` is the region of an ARN the user gave; an explicit `--region` still wins.
    """
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
            session, access.role_arn, chosen, endpoint_url=access.endpoint_url
        )
    return AwsReader(session, region=chosen, endpoint_url=access.endpoint_url)


def reader_for(
    reader: Reader | None = None,
    *,
    session: boto3.session.Session | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
    region_hint: str | None = None,
) -> Reader:
    """The caller's reader when given (a replay, a recording, a test double), else a live one."""
    if reader is not None:
        return reader
    return open_reader(AwsAccess(session, region, profile, endpoint_url, role_arn), region_hint)
