"""The bot's diagnoses: one adapter over the library, and readers that assume the right role.

`diagnose_saved_event` is the single place that turns an EventBridge event into a Diagnosis. It
calls `ecsdoctor.diagnose_event` when the library has it; until then it diagnoses the task or the
service the event names live (ECS remembers a stopped task for about an hour, and the event arrives
within seconds), and falls back to the offline reading of the event itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ecsdoctor.aws.protocol import Reader
from ecsdoctor.errors import AwsSetupError, InputError, ReadError
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
    from ecsdoctor.diagnose import diagnose_document
    from ecsdoctor.ingest import parse_document

    return diagnose_document(parse_document(json.dumps(event, default=str), "event"), knowledge)


def diagnose_saved_event(
    event: Mapping[str, Any],
    *,
    reader: Reader | None = None,
    region: str | None = None,
    role_arn: str | None = None,
    knowledge: KnowledgeBase | None = None,
    offline: bool = False,
) -> Diagnosis:
    """A Diagnosis of one EventBridge ECS event: live when a reader is given, else offline."""
    import ecsdoctor

    library: Callable[..., Diagnosis] | None = getattr(ecsdoctor, "diagnose_event", None)
    if library is not None:
        try:
            return library(
                event,
                reader=reader,
                region=region,
                role_arn=role_arn,
                knowledge=knowledge,
                offline=offline or reader is None,
            )
        except (ReadError, AwsSetupError):
            return _offline(event, knowledge)  # AWS unreadable: the event still says something
    if offline or reader is None:
        return _offline(event, knowledge)
    return _interim_live(event, reader, knowledge)


def _interim_live(
    event: Mapping[str, Any], reader: Reader, knowledge: KnowledgeBase | None
) -> Diagnosis:
    """Until `diagnose_event` lands: the named task or service, live; the event itself otherwise."""
    from ecsdoctor.diagnose import diagnose_task
    from ecsdoctor.scan import diagnose_service

    detail = event.get("detail")
    detail = detail if isinstance(detail, Mapping) else {}
    resources = event.get("resources")
    try:
        task = detail.get("taskArn")
        if event.get("detail-type") == "ECS Task State Change" and isinstance(task, str):
            return diagnose_task(task, reader=reader, knowledge=knowledge)
        subject = resources[0] if isinstance(resources, list) and resources else None
        if isinstance(subject, str) and ":service/" in subject:
            return diagnose_service(subject, reader=reader, knowledge=knowledge)
    except (ReadError, AwsSetupError, InputError):
        pass  # the task is gone or unreadable: the event's own messages still say something
    return _offline(event, knowledge)
