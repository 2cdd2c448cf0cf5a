"""Whole pasted blocks: each deployment tool's framing is dropped, wrapped lines are rejoined, and
the ECS message inside lands on its family with the tool named as the wrapper.

The Copilot blocks are quoted from aws/copilot-cli#2874 and #5586 (Copilot cuts CloudFormation
reasons every 70 columns, mid-word); the Terraform boxes follow the layout of Terraform's
internal/command/format/diagnostic.go (summary unwrapped, `│ ` rule, `with`/`on` context) around
real ECS messages, with the AWS SDK for Go v1's `status code` line under the summary.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecsdoctor.cli import app
from ecsdoctor.explain import iter_explanations
from ecsdoctor.ingest import Document, plain_signal
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.kb.unwrap import COPILOT_WIDTH, decoration, paste_messages, unwrap
from ecsdoctor.offline import diagnose_document
from ecsdoctor.report.document import diagnosis_document
from ecsdoctor.report.text import render_text

TERRAFORM_BOX = "\n".join(
    [
        "╷",
        "│ Error: error creating ECS service (web): InvalidParameterException: Unable to assume the "
        "service linked role. Please verify that the ECS service linked role exists.",
        "│ \tstatus code: 400, request id: 7b0c9f5e-1111-2222-3333-444455556666",
        "│ ",
        "│   with aws_ecs_service.web,",
        '│   on main.tf line 1, in resource "aws_ecs_service" "web":',
        '│    1: resource "aws_ecs_service" "web" {',
        "│ ",
        "╵",
    ]
)

TERRAFORM_PLAIN = "\n".join(
    [
        "Error: Error creating ECS service: InvalidParameterException: The container web did not "
        "have a container port 8080 defined.",
        "\tstatus code: 400, request id: 7b0c9f5e-1111-2222-3333-444455556666",
        "",
        '  on main.tf line 12, in resource "aws_ecs_service" "web":',
        '  12: resource "aws_ecs_service" "web" {',
    ]
)

# A CI log that wrapped Terraform's (unwrapped) summary line (hashicorp/terraform-provider-aws#44783).
TERRAFORM_SOFT_WRAPPED = "\n".join(
    [
        "  Error: updating ECS Cluster Capacity Providers (example-cluster): operation error ECS: "
        "PutClusterCapacityProviders, https response error StatusCode: 400, RequestID: "
        "<request-id>, InvalidParameterException: Cannot associate Managed",
        "  Instances capacity provider to clusters using this API.",
    ]
)

COPILOT = "\n".join(
    [
        "- An IAM Role for the Fargate agent to make AWS API calls on your behalf           "
        "[delete complete]    [0.0s]",
        "  - A CloudWatch log group to hold your service logs                                 "
        "[delete complete]    [0.0s]",
        "  - An ECS service to run and maintain your tasks in the environment cluster         "
        "[delete complete]    [88.4s]",
        "    Resource handler returned message: \"Error occurred during operation 'E",
        "    CS Deployment Circuit Breaker was triggered'.\" (RequestToken: 3363df6b",
        "    -208e-6840-ccc7-2c5f745b9468, HandlerErrorCode: GeneralServiceExceptio",
        "    n)",
        "    Deployments",
        "               Revision  Rollout   Desired  Running  Failed  Pending",
        "      PRIMARY  7         [failed]  1        0        10      1",
    ]
)

_PAD = " " * 53  # Copilot pads its lines to the terminal width
COPILOT_PADDED = "\n".join(
    [
        "    Resource handler returned message: \"Error occurred during operation 'E" + _PAD,
        "    CS Deployment Circuit Breaker was triggered'.\" (RequestToken: 121161f9" + _PAD,
        "    -1c97-e3d5-b4d3-8328bb2b676c, HandlerErrorCode: GeneralServiceExceptio" + _PAD,
        "    n)",
    ]
)

BOTO3_TRACEBACK = "\n".join(
    [
        "Traceback (most recent call last):",
        '  File "deploy.py", line 10, in <module>',
        "    ecs.run_task(**params)",
        "botocore.errorfactory.InvalidParameterException: An error occurred "
        "(InvalidParameterException) when calling the RunTask operation: Network Configuration "
        "must be provided when networkMode 'awsvpc' is specified.",
    ]
)

PULUMI = "\n".join(
    [
        "    aws:ecs:TaskDefinition (my-service-prod):",
        "      error: 1 error occurred:",
        "      \t* failed creating ECS Task Definition (my-service-prod-718b5d41): ClientException: "
        "The 'memory' setting for container 'worker' is greater than for the task.",
    ]
)

CDK = (
    " ❌  MyStack failed: Error: The stack named MyStack failed creation, it may need to be manually "
    'deleted from the AWS console: ROLLBACK_COMPLETE: Resource handler returned message: "Invalid '
    "request provided: CreateService error: The container app does not exist in the task definition. "
    "(Service: AmazonECS; Status Code: 400; Error Code: InvalidParameterException; Request ID: "
    '0e91c90c-0a97-4ee0-a90f-16697195accb; Proxy: null)" (RequestToken: '
    "da7667e2-f6da-b722-cb3b-96f9f0cf5b31, HandlerErrorCode: InvalidRequest)"
)

CFN_EVENTS_JSON = (
    '"ResourceStatusReason": "Resource handler returned message: \\"Invalid request provided: '
    "CreateService error: Specifying both a launch type and capacity provider strategy is not "
    "supported. Remove one and try again. (Service: AmazonECS; Status Code: 400; Error Code: "
    'InvalidParameterException; Request ID: 0e91c90c; Proxy: null)\\" (RequestToken: da7667e2, '
    'HandlerErrorCode: InvalidRequest)",'
)

CFN_HOOK = (
    "'CodeDeployBlueGreenHook' of type AWS::CodeDeploy::BlueGreen failed with message: The "
    "TaskDefinition logical Id [BlueTaskDefinition] is the same between initial and final "
    "template, CodeDeploy can't perform BlueGreen style update properly"
)

BLOCKS = [
    (TERRAFORM_BOX, "terraform", "service_event.service_linked_role_missing"),
    (TERRAFORM_PLAIN, "terraform", "service_api.container_port_not_defined"),
    (TERRAFORM_SOFT_WRAPPED, "terraform", "capacity_provider.managed_instances_association"),
    (COPILOT, "copilot", "service_event.deployment_failed"),
    (COPILOT_PADDED, "cloudformation", "service_event.deployment_failed"),
    (BOTO3_TRACEBACK, "boto3", "service_api.network_configuration_required"),
    (PULUMI, "pulumi", "task_definition.container_limit_above_task"),
    (CDK, "cdk", "service_api.container_not_in_task_definition"),
    (CFN_EVENTS_JSON, "cloudformation", "service_api.launch_type_with_capacity_provider"),
    (CFN_HOOK, "cloudformation", "blue_green.cloudformation_same_task_definition"),
]
IDS = [
    "terraform-box",
    "terraform-plain",
    "terraform-soft-wrapped",
    "copilot",
    "copilot-padded",
    "boto3-traceback",
    "pulumi",
    "cdk",
    "cfn-events-json",
    "cfn-hook",
]


@pytest.mark.parametrize(("block", "wrapper", "entry"), BLOCKS, ids=IDS)
def test_a_pasted_block_is_one_message_on_its_family_with_its_wrapper(
    block: str, wrapper: str, entry: str, kb: KnowledgeBase
) -> None:
    messages = list(paste_messages(block.splitlines()))
    assert len(messages) == 1, messages
    found = kb.recognize(plain_signal(messages[0]))
    assert found is not None and (found.entry.id, found.wrapper) == (entry, wrapper)


@pytest.mark.parametrize(("block", "wrapper", "entry"), BLOCKS, ids=IDS)
def test_explain_given_the_whole_block_as_one_argument(
    block: str, wrapper: str, entry: str
) -> None:
    result = CliRunner().invoke(app, ["explain", "--json", "--", block])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)
    assert (doc["entry"], doc["wrapper"]) == (entry, wrapper)


def test_copilot_hard_wraps_are_glued_without_a_space() -> None:
    (message,) = paste_messages(COPILOT_PADDED.splitlines())
    assert "operation 'ECS Deployment Circuit Breaker" in message
    assert "GeneralServiceException)" in message
    assert len("Resource handler returned message: \"Error occurred during operation 'E") == (
        COPILOT_WIDTH
    )


def test_word_wrapped_lines_keep_their_space() -> None:
    (message,) = paste_messages(TERRAFORM_SOFT_WRAPPED.splitlines())
    assert "Cannot associate Managed Instances capacity provider" in message


def test_separate_messages_stay_separate(kb: KnowledgeBase) -> None:
    lines = [
        "An error occurred (InvalidParameterException) when calling the CreateService operation: "
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        "An error occurred (ClientException) when calling the RegisterTaskDefinition operation: "
        "No Fargate configuration exists for given values: 512 CPU, 512 memory.",
        "(service web) has reached a steady state.",
        "Error: creating ECS Service (a): InvalidParameterException: Creation of service was not "
        "idempotent.",
        "Error: creating ECS Service (b): InvalidParameterException: The container web does not "
        "exist in the task definition.",
    ]
    messages = list(paste_messages(lines))
    assert messages == lines
    entries = [e.entry for e in iter_explanations(messages, kb)]
    assert entries == [
        "service_api.network_configuration_required",
        "task_definition.fargate_cpu_memory_invalid",
        "service_event.steady_state",
        "service_api.not_idempotent",
        "service_api.container_not_in_task_definition",
    ]


def test_progress_and_framing_lines_alone_are_dropped() -> None:
    lines = [
        "✔ Proposing infrastructure changes for stack demo1-test-search",
        "  - A custom resource returning the ECS service's running task count          "
        "[update complete]    [3.3s]",
        "╷",
        "│ ",
        "╵",
        "\tstatus code: 400, request id: 7b0c9f5e-1111-2222-3333-444455556666",
    ]
    assert list(paste_messages(lines)) == []
    assert decoration(lines[-1])


def test_paste_messages_is_lazy_and_bounded() -> None:
    def endless() -> Iterator[str]:
        yield "(service web) has reached a steady state."
        for i in itertools.count():
            yield f"    indented continuation {i}"

    first = next(iter(paste_messages(endless())))
    assert first.startswith("(service web) has reached a steady state.")
    assert len(first) <= 4096 + 64


def test_unwrap_of_a_single_line_is_unchanged() -> None:
    text = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    assert unwrap(text) == (text, None)


def test_offline_diagnosis_document_and_text_name_the_wrapper(kb: KnowledgeBase) -> None:
    document = Document(signals=(plain_signal(next(paste_messages(TERRAFORM_BOX.splitlines()))),))
    diagnosis = diagnose_document(document, kb)
    doc = diagnosis_document(diagnosis)
    assert [(m["entry"], m["wrapper"]) for m in doc["matches"]] == [
        ("service_event.service_linked_role_missing", "terraform")
    ]
    assert "(reported through terraform)" in render_text(diagnosis)


def _explain_stdin(block: str) -> tuple[int, list[tuple[str, str]]]:
    result = CliRunner().invoke(app, ["explain", "--json", "-"], input=block + "\n")
    return result.exit_code, [(d["entry"], d["wrapper"]) for d in json.loads(result.stdout)]


@pytest.mark.parametrize(("block", "wrapper", "entry"), BLOCKS[:2], ids=IDS[:2])
def test_explain_reads_a_terraform_box_on_standard_input(
    block: str, wrapper: str, entry: str
) -> None:
    assert _explain_stdin(block) == (0, [(entry, wrapper)])


@pytest.mark.parametrize(("block", "wrapper", "entry"), BLOCKS[2:7], ids=IDS[2:7])
def test_explain_reads_a_wrapped_block_on_standard_input(
    block: str, wrapper: str, entry: str
) -> None:
    assert _explain_stdin(block) == (0, [(entry, wrapper)])


def test_diagnose_events_reads_a_pasted_block_from_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "apply.txt"
    path.write_text(TERRAFORM_BOX + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["diagnose", "--events", str(path), "--offline", "--json"])
    doc = json.loads(result.stdout)
    assert [(m["entry"], m["wrapper"]) for m in doc["matches"]] == [
        ("service_event.service_linked_role_missing", "terraform")
    ]
    assert len(doc["signals"]) == 1
