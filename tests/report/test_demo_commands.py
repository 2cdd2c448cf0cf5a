"""Every fix command of every demo scenario pastes: shlex parses it into a real AWS CLI command.

Each scenario is built in moto and diagnosed; every command pulled out of a root cause's or a
hypothesis' remediation must shlex-parse, name a real service and operation (checked against
botocore's models, as the AWS CLI maps `create-vpc-endpoint` to CreateVpcEndpoint), and be made of
`--option [value...]` words with no prose or punctuation caught in it.
"""

from __future__ import annotations

import re
import shlex
from functools import cache

import boto3
import pytest
from moto import mock_aws

from ecsdoctor.demo.run import run_scenario, scenario_titles
from ecsdoctor.report import Format, diagnosis_document, render
from ecsdoctor.report.commands import split_remediation

SCENARIOS = sorted(scenario_titles())
# Root-cause commands that still carry a placeholder for the user to fill in (checks' text).
PLACEHOLDERS = {"ssm-parameter-missing"}


@cache
def operations(service: str) -> frozenset[str]:
    session = boto3.session.Session(region_name="us-east-1")
    model = session._session.get_service_model(  # type: ignore[attr-defined]
        {"elbv2": "elbv2", "logs": "logs"}.get(service, service)
    )
    return frozenset(model.operation_names)


def _cli_to_api(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("-"))


def assert_well_formed(command: str) -> None:
    words = shlex.split(command)
    assert len(words) >= 3 and words[0] == "aws", command
    service, operation = words[1], words[2]
    assert service in boto3.session.Session().get_available_services(), command
    api = _cli_to_api(operation)
    assert api.lower() in {o.lower() for o in operations(service)}, command
    previous_option = False
    for word in words[3:]:
        assert word not in ("&&", "||", ";", "|"), command
        assert not re.search(r"[`]|[.,;:)]$", word) or word == "...", (word, command)
        if word.startswith("--"):
            assert re.fullmatch(r"--[a-z0-9][a-z0-9-]*(=.*)?", word), (word, command)
            previous_option = True
        else:
            assert previous_option, (word, command)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_fix_command_is_well_formed(name: str) -> None:
    with mock_aws():
        _, diagnosis = run_scenario(name)
    doc = diagnosis_document(diagnosis)
    commands = [c for f in doc["root_causes"] + doc["hypotheses"] for c in f.get("commands", [])]
    for command in commands:
        assert_well_formed(command)
    text = render(Format.TEXT, diagnosis, width=80)
    for finding in doc["root_causes"]:
        for command in finding.get("commands", []):
            assert command in text.splitlines()[0] or any(
                line.strip() == command for line in text.splitlines()
            ), command
    if name not in PLACEHOLDERS:
        for finding in doc["root_causes"]:
            for command in finding["commands"]:
                assert not re.search(r"<[^>]+>|\s\.\.\.(\s|$)", command), command


def test_the_extraction_itself() -> None:
    remedy = split_remediation(
        "Create the parameter (aws ssm put-parameter --name /a --type SecureString --value ... "
        "--region us-east-1) or fix valueFrom. Then aws iam attach-role-policy --role-name r "
        "--policy-arn arn:aws:iam::aws:policy/x && aws iam detach-role-policy --role-name t "
        "--policy-arn arn:aws:iam::aws:policy/x."
    )
    assert remedy.commands == (
        "aws ssm put-parameter --name /a --type SecureString --value ... --region us-east-1",
        "aws iam attach-role-policy --role-name r --policy-arn arn:aws:iam::aws:policy/x",
        "aws iam detach-role-policy --role-name t --policy-arn arn:aws:iam::aws:policy/x",
    )
    assert remedy.prose.startswith("Create the parameter (the command below) or fix valueFrom.")
    assert remedy.prose.endswith("Then the commands below.")
    for command in remedy.commands:
        assert_well_formed(command)
