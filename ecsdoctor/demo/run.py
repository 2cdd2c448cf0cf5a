"""Run one demo scenario: build the broken account in-process with moto, then diagnose it live.

The diagnosis is the real one (same reader, checks and ranking as against AWS); only the account
is emulated. Credentials and endpoints are faked for the duration so nothing can reach AWS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ecsdoctor.demo.scenarios import SCENARIOS, Scenario
from ecsdoctor.models import Diagnosis

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_SESSION_TOKEN": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def _isolated_env() -> Iterator[None]:
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ.update(_FAKE_ENV)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_scenario(name: str) -> tuple[Scenario, Diagnosis]:
    """Build scenario `name` in a fresh emulated account and diagnose its task."""
    import boto3
    from moto import mock_aws

    from ecsdoctor.diagnose import diagnose_task

    with _isolated_env(), mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        built = SCENARIOS[name].build(session)
        diagnosis = diagnose_task(built.task_arn, cluster=built.cluster, session=session)
    return built, diagnosis
