"""A saved event diagnosed live: the event is the signal, its resources are checked in AWS.

This is how a diagnosis still works after ECS has forgotten the task (about an hour after it
stops): the EventBridge event, or saved describe-tasks / describe-services output, names the task
definition revision, the subnets and security groups, the cluster and the service, and those are
read live. The ChatOps bot and `ecsdoctor diagnose --events` without `--offline` call this.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import boto3.session

from ecsdoctor.arn import TaskRef, parse_arn
from ecsdoctor.aws.protocol import Reader
from ecsdoctor.aws.session import reader_for
from ecsdoctor.diagnose import diagnose_snapshot
from ecsdoctor.ingest import Document, parse_document
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.models import Diagnosis
from ecsdoctor.offline import diagnose_document
from ecsdoctor.pipeline import load_knowledge
from ecsdoctor.scan import diagnose_service
from ecsdoctor.snapshot import TaskSnapshot


def diagnose_event(
    event: Mapping[str, Any],
    *,
    session: boto3.session.Session | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
    knowledge: KnowledgeBase | None = None,
    reader: Reader | None = None,
    offline: bool = False,
    thorough: bool = False,
) -> Diagnosis:
    """Diagnose a saved event (EventBridge, or describe-tasks/-services output) live.

    The event is the signal; the resources it names (task definition revision, subnets and
    security groups of its attachment, cluster, service) are checked live, so this works after
    ECS has forgotten the task. `offline` keeps to the knowledge base.
    """
    kb = knowledge or load_knowledge()
    document = parse_document(json.dumps(event, default=str), "event")
    if offline:
        return diagnose_document(document, kb)
    tasks = [
        t.raw for t in document.tasks if t.raw.get("taskArn") and t.raw.get("taskDefinitionArn")
    ]
    services = _services_named(event, document)
    if not tasks and not services:
        diagnosis = diagnose_document(document, kb)
        return _noted(diagnosis, "the event names no task or service to check live")
    aws = reader_for(
        reader,
        session=session,
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        role_arn=role_arn,
        region_hint=document.region,
    )
    if tasks:
        raw = tasks[0]
        arn = str(raw["taskArn"])
        parsed = parse_arn(arn)
        ref = TaskRef(
            arn,
            str(raw.get("clusterArn") or ""),
            parsed.region if parsed else None,
            parsed.account if parsed else None,
        )
        return diagnose_snapshot(TaskSnapshot(aws, ref, task=raw), document.signals, kb, thorough)
    return diagnose_service(services[0], reader=aws, knowledge=kb, extra_signals=document.signals)


def _services_named(event: Mapping[str, Any], document: Document) -> list[str]:
    """Service ARNs an event is about: EventBridge `resources`, or describe-services output."""
    named = [str(s.get("serviceArn")) for s in document.services if s.get("serviceArn")]
    resources = event.get("resources") if isinstance(event, Mapping) else None
    named.extend(r for r in resources or [] if isinstance(r, str) and ":service/" in r)
    return named


def _noted(diagnosis: Diagnosis, note: str) -> Diagnosis:
    return replace(diagnosis, notes=(*diagnosis.notes, note))
