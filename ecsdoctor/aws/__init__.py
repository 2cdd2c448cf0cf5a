"""AWS access for ecsdoctor: the read-only allow-list and the guarded, memoised reader."""

from ecsdoctor.aws.operations import (
    FORBIDDEN,
    IAM_PREFIX,
    MUTATING_PREFIXES,
    READ_OPERATIONS,
    is_allowed,
    permission_name,
)
from ecsdoctor.aws.reader import (
    DEADLINE_ENV,
    DEADLINE_EXCEEDED,
    DEFAULT_DEADLINE,
    AwsReader,
    assume_role_session,
    guarded_session,
    open_session,
    translate_error,
    validate_region,
)

__all__ = [
    "DEADLINE_ENV",
    "DEADLINE_EXCEEDED",
    "DEFAULT_DEADLINE",
    "FORBIDDEN",
    "IAM_PREFIX",
    "MUTATING_PREFIXES",
    "READ_OPERATIONS",
    "AwsReader",
    "assume_role_session",
    "guarded_session",
    "is_allowed",
    "open_session",
    "permission_name",
    "translate_error",
    "validate_region",
]
