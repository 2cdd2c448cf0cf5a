"""The bot's diagnoses: one adapter over the library, and readers that assume the right role.

`diagnose_saved_event` is the single place that turns an EventBridge event into a Diagnosis: the
library's `diagnose_event` (the event is the signal, the resources it names are checked live), or
the offline reading of the event when there is no reader or AWS cannot be read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ecsdoctor.aws.protocol import Reader
from ecsdoctor.errors import AwsSetupError, ReadError
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.models import Diagnosis

ReaderFactory = Callable[[str | None, str | None], Reader]
"""(account, region) -> a read-only reader for that account (role assumed when configured)."""


def reader_factory(role_template: Callable[[str | None], str | None]) -> ReaderFactory:
    """Readers through `open_reader`, assuming the role the template names for each account."""

    def open_for(account: str | None, region: str | None) -> Reader:
        from ecsdoctor.aws.session import AwsAccess, open_reader

        return open_reader(AwsAccess(role_arn=role_template(account)), region)

    return open_for


def _offline(event: Mapping[str, Any], knowledge: KnowledgeBase | None) -> Diagnosis:
    from ecsdoctor.ingest import parse_document
    from ecsdoctor.offline import diagnose_document

    return diagnose_document(parse_document(json.dumps(event, default=str), "event"), knowledge)


def diagnose_saved_event(
    event: Mapping[str, Any],
    *,
    reader: Reader | None = None,
    region: str | None = None,
    knowledge: KnowledgeBase | None = None,
    offline: bool = False,
) -> Diagnosis:
    """A Diagnosis of one EventBridge ECS event: live through `reader`, offline without one.

    When AWS cannot be read at all (the role cannot be assumed, the account is gone), the event's
    own messages still say something: the offline reading is posted rather than nothing.
    """
    from ecsdoctor.events import diagnose_event

    if offline or reader is None:
        return _offline(event, knowledge)
    try:
        return diagnose_event(event, reader=reader, region=region, knowledge=knowledge)
    except (ReadError, AwsSetupError):
        return _offline(event, knowledge)
