"""Run one demo scenario: build the broken account in-process with moto, then diagnose it live.

The diagnosis is the real one (same reader, checks and ranking as against AWS); only the account
is emulated. Credentials and endpoints are faked for the duration so nothing can reach AWS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec

from ecsdoctor.demo.scenarios import SCENARIOS, Scenario
from ecsdoctor.errors import InputError
from ecsdoctor.models import Diagnosis

#: What the emulated account needs beyond the base install (the `demo` extra).
DEMO_MODULES = ("moto", "boto3")


def require_demo_extra(distribution: str = "ecsdoctor-cli") -> None:
    """Refuse in one line, naming the extra, when the emulated account cannot be built."""
    missing = [name for name in DEMO_MODULES if find_spec(name) is None]
    if missing:
        raise InputError(
            f"the demo needs the 'demo' extra ({', '.join(missing)} not installed): "
            f"pip install '{distribution}[demo]'"
        )

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


CLUSTER_SCAN = "cluster-scan"
CLUSTER_SCAN_TITLE = (
    "A 50-service cluster: one missing log group breaks twelve services, six more break alone"
)


def scenario_titles() -> dict[str, str]:
    """Every demo scenario (task, service and the cluster scan) and its title."""
    from ecsdoctor.demo.service_scenarios import SERVICE_SCENARIOS

    titles = {name: spec.title for name, spec in SCENARIOS.items()}
    titles.update({name: spec.title for name, spec in SERVICE_SCENARIOS.items()})
    titles[CLUSTER_SCAN] = CLUSTER_SCAN_TITLE
    return titles


def run_scenario(name: str) -> tuple[str, Diagnosis]:
    """Build scenario `name` in a fresh emulated account and diagnose it: (title, diagnosis)."""
    import boto3
    from moto import mock_aws

    from ecsdoctor.demo.service_scenarios import SERVICE_SCENARIOS, ClusterMix, build_cluster
    from ecsdoctor.diagnose import diagnose_task
    from ecsdoctor.scan import diagnose_service, scan_cluster

    with _isolated_env(), mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        if name == CLUSTER_SCAN:
            build_cluster(session, ClusterMix())
            return CLUSTER_SCAN_TITLE, scan_cluster("prod", session=session)
        if name in SERVICE_SCENARIOS:
            service = SERVICE_SCENARIOS[name].build(session)
            diagnosis = diagnose_service(service.service, cluster=service.cluster, session=session)
            return service.title, diagnosis
        built: Scenario = SCENARIOS[name].build(session)
        diagnosis = diagnose_task(built.task_arn, cluster=built.cluster, session=session)
    return built.title, diagnosis
