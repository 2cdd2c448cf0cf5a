"""The container itself: out-of-memory kills, essential-container exit codes, and an image
built for another CPU architecture than the task's runtimePlatform.

Commands and entry points are never printed (they can carry credentials): findings say only
whether the task definition overrides them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ecsdoctor.arn import ImageRef
from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.errors import ApiError
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status

_OOM = re.compile(r"OutOfMemoryError", re.IGNORECASE)
_EXEC_FORMAT = re.compile(r"exec format error", re.IGNORECASE)
_ARCH = {"X86_64": "amd64", "ARM64": "arm64"}

#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html and
#: the shell's conventions for 126/127/128+signal.
EXIT_CODES: dict[int, str] = {
    1: "the application exited with an error (exit code 1)",
    126: "the command was found but is not executable (exit code 126: permission or format)",
    127: "the command was not found in the image (exit code 127)",
    139: "the process crashed with a segmentation fault (exit code 139, SIGSEGV)",
    143: "the process was stopped with SIGTERM and exited (exit code 143)",
}


def _definitions(ctx: CheckContext) -> dict[str, Mapping[str, Any]]:
    return {str(c.get("name")): c for c in ctx.snap.containers}


def _node(ctx: CheckContext, name: str) -> str:
    return f"{ctx.snap.task_definition_arn}#{name}"


def _overrides(definition: Mapping[str, Any]) -> str:
    """Whether the task definition sets the program, never the program itself."""
    parts = [f for f in ("entryPoint", "command") if definition.get(f)]
    if not parts:
        return (
            "The task definition sets no entryPoint or command: the image's own ENTRYPOINT/CMD run."
        )
    return (
        f"The task definition overrides {' and '.join(parts)} (not shown: ecsdoctor never prints "
        "commands); compare them with the programs the image contains."
    )


@check(Kind.CONTAINER, reads=("ecs:DescribeTaskDefinition",), rank=15)
def out_of_memory(ctx: CheckContext) -> list[CheckResult]:
    """A container was killed for exceeding its memory limit: name it, its hard and soft limits
    and the task's memory, so the limit to raise is clear."""
    containers = ctx.snap.task.get("containers", []) or []
    killed = [c for c in containers if _OOM.search(str(c.get("reason") or ""))]
    if not killed:
        return []  # no container reason names the kill (a task-level 137 alone is not proof)
    definitions = _definitions(ctx)
    task_memory = ctx.snap.task.get("memory") or ctx.snap.task_definition.get("memory")
    out: list[CheckResult] = []
    for container in killed:
        name = str(container.get("name"))
        definition = definitions.get(name, {})
        hard = definition.get("memory")
        soft = definition.get("memoryReservation")
        limit = (
            f"hard limit {hard} MiB"
            if hard
            else f"no container hard limit, so the task's {task_memory} MiB applies"
        )
        detail = (
            f"Container {name} was killed for using more memory than allowed ({limit}"
            + (f", soft reservation {soft} MiB" if soft else "")
            + f"; task memory {task_memory} MiB), exit code {container.get('exitCode', 'unknown')}."
        )
        fix = (
            f"Raise memory of container {name} (now {hard} MiB)"
            if hard
            else f"Raise the task memory (now {task_memory} MiB)"
        ) + " in a new task definition revision, or reduce the application's memory use."
        out.append(
            ctx.result(
                Kind.CONTAINER,
                _node(ctx, name),
                Status.CONFIRMED,
                detail,
                (
                    Evidence(
                        _node(ctx, name), "ecs:DescribeTasks", str(container.get("reason"))[:200]
                    ),
                    Evidence(
                        ctx.snap.task_definition_arn, "ecs:DescribeTaskDefinition", limit + "."
                    ),
                ),
                fix,
            )
        )
    return out


@check(Kind.CONTAINER, reads=("ecs:DescribeTaskDefinition",), rank=40)
def essential_exit_code(ctx: CheckContext) -> list[CheckResult]:
    """An essential container exited with a code that names what happened (1, 126, 127, 139,
    143): the application, not the infrastructure, stopped the task."""
    if ctx.snap.task.get("stopCode") not in ("EssentialContainerExited", None):
        return []
    definitions = _definitions(ctx)
    out: list[CheckResult] = []
    for container in ctx.snap.task.get("containers", []) or []:
        code = container.get("exitCode")
        name = str(container.get("name"))
        definition = definitions.get(name, {})
        if not isinstance(code, int) or code not in EXIT_CODES:
            continue
        if definition.get("essential", True) is False or _OOM.search(
            str(container.get("reason") or "")
        ):
            continue
        detail = f"Essential container {name} stopped: {EXIT_CODES[code]}."
        evidence = (
            Evidence(_node(ctx, name), "ecs:DescribeTasks", f"exitCode {code}."),
            Evidence(
                ctx.snap.task_definition_arn, "ecs:DescribeTaskDefinition", _overrides(definition)
            ),
        )
        fix = (
            "Fix the entryPoint/command or rebuild the image so the program exists and is executable."
            if code in (126, 127)
            else f"Read the container's logs around the exit to see why {name} stopped."
        )
        out.append(
            ctx.result(Kind.CONTAINER, _node(ctx, name), Status.CONFIRMED, detail, evidence, fix)
        )
    return out


@check(Kind.ECR_IMAGE, reads=("ecs:DescribeTaskDefinition", "ecr:BatchGetImage"), rank=16)
def exec_format_error(ctx: CheckContext) -> list[CheckResult]:
    """`exec format error`: the image's program is built for another CPU architecture than the
    task's runtimePlatform; the image index's manifest platforms (never its layers) say which."""
    texts = [str(ctx.snap.task.get("stoppedReason") or "")] + [
        str(c.get("reason") or "") for c in ctx.snap.task.get("containers", []) or []
    ]
    if not any(_EXEC_FORMAT.search(t) for t in texts):
        return []
    platform = ctx.snap.task_definition.get("runtimePlatform") or {}
    wanted_raw = str(platform.get("cpuArchitecture") or "X86_64")
    wanted = _ARCH.get(wanted_raw.upper(), wanted_raw.lower())
    out: list[CheckResult] = []
    for container, image, ref in ctx.snap.images():
        if not isinstance(ref, ImageRef):
            continue
        resource = str(ref.repository_arn) if ref.is_ecr else image
        said = Evidence(ctx.snap.task_arn, "stoppedReason", "exec format error")
        asked = Evidence(
            ctx.snap.task_definition_arn,
            "ecs:DescribeTaskDefinition",
            f"runtimePlatform.cpuArchitecture is {wanted_raw}"
            + ("" if platform.get("cpuArchitecture") else " (the default)")
            + ".",
        )
        platforms = None
        if ref.is_ecr:
            try:
                platforms = ctx.snap.manifest_platforms(ref)
            except ApiError:
                platforms = None
        if platforms is not None and any(arch == wanted for _, arch in platforms):
            out.append(
                ctx.result(
                    Kind.ECR_IMAGE,
                    resource,
                    Status.RULED_OUT,
                    f"Image {image} offers a linux/{wanted} variant; the exec format error is "
                    "not an architecture mismatch of this container.",
                    (said, asked),
                )
            )
            continue
        offered = ", ".join(f"{o}/{a}" for o, a in platforms) if platforms else None
        detail = (
            f"Container {container} runs on {wanted_raw} ({wanted}) but image {image} "
            + (
                f"offers only {offered}"
                if offered
                else "is a single-platform image whose program the kernel refused (exec format "
                "error): it was built for another architecture"
            )
            + "."
        )
        out.append(
            ctx.result(
                Kind.ECR_IMAGE if ref.is_ecr else Kind.CONTAINER_IMAGE,
                resource,
                Status.CONFIRMED,
                detail,
                (said, asked)
                + (
                    (Evidence(resource, "ecr:BatchGetImage", f"Image index platforms: {offered}."),)
                    if offered
                    else ()
                ),
                f"Build the image for linux/{wanted} (docker buildx build --platform linux/{wanted}) or set "
                f"runtimePlatform.cpuArchitecture to the image's architecture.",
            )
        )
    return out
