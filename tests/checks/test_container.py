"""Table tests of the container checks: OOM kills, essential exit codes, exec format errors.

The messages are ECS's own: `OutOfMemoryError: Container killed due to memory usage` and
`Essential container in task exited` (knowledge/container_exit/out_of_memory.toml and
knowledge/stop_code/essential_container_exited.toml cite their sources); the exec format error
is the kernel's refusal as the container runtime reports it (tests/walk/test_checks_more.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from ecsdoctor.checks import REGISTRY
from ecsdoctor.checks.container import essential_exit_code, exec_format_error, out_of_memory
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.documents import image_index, single_manifest
from tests.checks.fake_reader import FakeReader
from tests.checks.table import (
    EAST,
    WEST,
    Built,
    Row,
    Where,
    stopped_task,
    task_context,
    task_definition,
    task_reader,
    verify,
)

OOM = "OutOfMemoryError: Container killed due to memory usage"
ESSENTIAL_EXITED = "Essential container in task exited"
EXEC_FORMAT = "exec /usr/local/bin/streamlit: exec format error"
#: A command that must never be printed (it carries a credential).
SECRET_COMMAND = ["sh", "-c", "curl -u admin:hunter2 https://db.internal/migrate && ./serve"]


def _world(
    where: Where,
    containers: Sequence[Mapping[str, Any]],
    states: Sequence[Mapping[str, Any]],
    *,
    stop_code: str = "EssentialContainerExited",
    stopped_reason: str = ESSENTIAL_EXITED,
    deny: tuple[str, str] | None = None,
    plant: Sequence[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]] = (),
    **td: Any,
) -> Built:
    """A task whose `containers` stopped as `states` say (name, exitCode, reason per container)."""
    definition = task_definition(where, "api", 12, containers, **td)
    reader: FakeReader = task_reader(where, definition)
    for service, operation, answer, params in plant:
        reader.on(service, operation, answer, region=where.region, **params)
    if deny:
        reader.deny(*deny)
    task = stopped_task(
        where,
        definition,
        stopCode=stop_code,
        stoppedReason=stopped_reason,
        containers=[{"lastStatus": "STOPPED", **s} for s in states],
    )
    return task_context(reader, where, task), reader


def _container(where: Where, name: str = "api", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"{where.registry()}/api:1.4.2",
        "essential": True,
        **extra,
    }


def _node(where: Where, name: str = "api") -> str:
    return f"{where.td_arn('api', 12)}#{name}"


# -- out of memory ------------------------------------------------------------------------------
OOM_ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                [_container(EAST, memory=512, memoryReservation=256)],
                [{"name": "api", "exitCode": 137, "reason": OOM}],
            ),
            Status.CONFIRMED,
            Kind.CONTAINER,
            _node(EAST),
            "hard limit 512 MiB, soft reservation 256 MiB; task memory 512 MiB), exit code 137",
            "ecs:DescribeTasks",
        ),
        id="confirmed-container-hard-limit",
    ),
    pytest.param(
        Row(
            # No container limit: the task-level memory is the one the kernel enforced.
            lambda: _world(
                WEST,
                [_container(WEST, "worker"), _container(WEST, "envoy", essential=False)],
                [
                    {"name": "worker", "exitCode": 137, "reason": OOM},
                    {"name": "envoy", "exitCode": 0},
                ],
                memory="2048",
                cpu="1024",
            ),
            Status.CONFIRMED,
            Kind.CONTAINER,
            f"{WEST.td_arn('api', 12)}#worker",
            "no container hard limit, so the task's 2048 MiB applies",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-task-memory-applies",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                [_container(EAST, memory=512)],
                [{"name": "api", "exitCode": 137, "reason": OOM}],
                deny=("ecs", "DescribeTaskDefinition"),
            ),
            Status.INCONCLUSIVE,
            Kind.CONTAINER,
            EAST.task_arn("0f9d8c7b6a5e4d3c2b1a09f8e7d6c5b4"),
            "access denied for ecs:DescribeTaskDefinition",
            permission="ecs:DescribeTaskDefinition",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        # Exit code 137 alone is SIGKILL, not proof of an OOM kill: no reason names it.
        Row(lambda: _world(EAST, [_container(EAST)], [{"name": "api", "exitCode": 137}]), None),
        id="not-applicable-137-without-oom-reason",
    ),
]


@pytest.mark.parametrize("row", OOM_ROWS)
def test_out_of_memory(row: Row) -> None:
    verify(out_of_memory, row)


# -- essential container exit codes -------------------------------------------------------------
EXIT_ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                [_container(EAST, command=SECRET_COMMAND)],
                [{"name": "api", "exitCode": 127}],
            ),
            Status.CONFIRMED,
            Kind.CONTAINER,
            _node(EAST),
            "the command was not found in the image (exit code 127)",
            "ecs:DescribeTasks",
        ),
        id="confirmed-127-command-not-found",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                [_container(WEST, "worker", entryPoint=["/app/worker"])],
                [{"name": "worker", "exitCode": 139}],
            ),
            Status.CONFIRMED,
            Kind.CONTAINER,
            f"{WEST.td_arn('api', 12)}#worker",
            "The task definition overrides entryPoint (not shown",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-139-segfault-entrypoint-override",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, [_container(EAST)], [{"name": "api", "exitCode": 1}]),
            Status.CONFIRMED,
            Kind.CONTAINER,
            _node(EAST),
            "sets no entryPoint or command: the image's own ENTRYPOINT/CMD run",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-1-image-entrypoint",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                [_container(WEST)],
                [{"name": "api", "exitCode": 1}],
                deny=("ecs", "DescribeTaskDefinition"),
            ),
            Status.INCONCLUSIVE,
            Kind.CONTAINER,
            WEST.task_arn("0f9d8c7b6a5e4d3c2b1a09f8e7d6c5b4"),
            "access denied for ecs:DescribeTaskDefinition",
            permission="ecs:DescribeTaskDefinition",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        # A sidecar that is not essential does not stop the task, whatever its code.
        Row(
            lambda: _world(
                EAST,
                [_container(EAST), _container(EAST, "xray", essential=False)],
                [{"name": "api", "exitCode": 0}, {"name": "xray", "exitCode": 1}],
            ),
            None,
        ),
        id="not-applicable-non-essential-sidecar",
    ),
    pytest.param(
        # The OOM kill is out_of_memory's finding, not an exit code of the application.
        Row(
            lambda: _world(
                EAST, [_container(EAST)], [{"name": "api", "exitCode": 143, "reason": OOM}]
            ),
            None,
        ),
        id="not-applicable-oom-kill",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                [_container(EAST)],
                [{"name": "api", "exitCode": 1}],
                stop_code="TaskFailedToStart",
                stopped_reason="CannotPullContainerError: pull image manifest has been retried",
            ),
            None,
        ),
        id="not-applicable-task-failed-to-start",
    ),
    pytest.param(
        Row(lambda: _world(WEST, [_container(WEST)], [{"name": "api", "exitCode": 2}]), None),
        id="not-applicable-unnamed-code",
    ),
]


@pytest.mark.parametrize("row", EXIT_ROWS)
def test_essential_exit_code(row: Row) -> None:
    results = verify(essential_exit_code, row)
    shown = " ".join(
        [r.detail for r in results]
        + [r.remediation or "" for r in results]
        + [e.detail for r in results for e in r.evidence]
    )
    assert "hunter2" not in shown and "/app/worker" not in shown, "a command was printed"


# -- exec format error --------------------------------------------------------------------------
def _ecr_image(
    where: Where, manifest: str
) -> tuple[str, str, Mapping[str, Any], Mapping[str, Any]]:
    """BatchGetImage of api:1.4.2 answering with `manifest`."""
    return (
        "ecr",
        "BatchGetImage",
        {
            "images": [
                {
                    "registryId": where.account,
                    "repositoryName": "api",
                    "imageId": {"imageTag": "1.4.2"},
                    "imageManifest": manifest,
                }
            ],
            "failures": [],
        },
        {"registryId": where.account, "repositoryName": "api"},
    )


def _exec_format(where: Where, *plant: Any, **td: Any) -> Built:
    return _world(
        where,
        [_container(where)],
        [{"name": "api", "exitCode": 1, "reason": EXEC_FORMAT}],
        plant=plant,
        **td,
    )


def _repository(where: Where) -> str:
    return f"arn:aws:ecr:{where.region}:{where.account}:repository/api"


EXEC_ROWS = [
    pytest.param(
        Row(
            lambda: _exec_format(EAST, _ecr_image(EAST, image_index("arm64"))),
            Status.CONFIRMED,
            Kind.ECR_IMAGE,
            _repository(EAST),
            "runs on X86_64 (amd64) but image",
            "ecr:BatchGetImage",
        ),
        id="confirmed-index-arm64-only",
    ),
    pytest.param(
        Row(
            lambda: _exec_format(
                WEST,
                _ecr_image(WEST, single_manifest()),
                runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
            ),
            Status.CONFIRMED,
            Kind.ECR_IMAGE,
            _repository(WEST),
            "is a single-platform image whose program the kernel refused",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-single-platform-on-arm64",
    ),
    pytest.param(
        Row(
            # Not ECR: nothing is read, the image is named by its string.
            lambda: _world(
                EAST,
                [{"name": "api", "image": "docker.io/library/nginx:1.27", "essential": True}],
                [{"name": "api", "exitCode": 1, "reason": EXEC_FORMAT}],
            ),
            Status.CONFIRMED,
            Kind.CONTAINER_IMAGE,
            "docker.io/library/nginx:1.27",
            "runtimePlatform.cpuArchitecture is X86_64 (the default).",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-docker-hub-image",
    ),
    pytest.param(
        Row(
            lambda: _exec_format(EAST, _ecr_image(EAST, image_index("amd64", "arm64"))),
            Status.RULED_OUT,
            Kind.ECR_IMAGE,
            _repository(EAST),
            "offers a linux/amd64 variant",
            "ecs:DescribeTaskDefinition",
        ),
        id="ruled-out-index-has-amd64",
    ),
    pytest.param(
        Row(
            lambda: _exec_format(
                WEST,
                _ecr_image(WEST, image_index("amd64")),
                runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
                deny=("ecr", "BatchGetImage"),
            ),
            Status.INCONCLUSIVE,
            Kind.ECR_IMAGE,
            WEST.task_arn("0f9d8c7b6a5e4d3c2b1a09f8e7d6c5b4"),
            "access denied for ecr:BatchGetImage",
            permission="ecr:BatchGetImage",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(EAST, [_container(EAST)], [{"name": "api", "exitCode": 1}]), None),
        id="not-applicable-no-exec-format-error",
    ),
]


@pytest.mark.parametrize("row", EXEC_ROWS)
def test_exec_format_error(row: Row) -> None:
    verify(exec_format_error, row)


def test_exec_format_error_reads_the_index_only() -> None:
    """The manifest is asked for as an index (never layers), by the task's tag."""
    ctx, reader = _exec_format(EAST, _ecr_image(EAST, image_index("arm64")))
    REGISTRY["container.exec_format_error"].run(ctx)  # type: ignore[arg-type]
    assert reader.calls.count("ecr:BatchGetImage") == 1
    assert "ecr:GetDownloadUrlForLayer" not in reader.calls


#: Every check of the module and its table (test_registry reads them).
TABLES = {
    out_of_memory: OOM_ROWS,
    essential_exit_code: EXIT_ROWS,
    exec_format_error: EXEC_ROWS,
}
