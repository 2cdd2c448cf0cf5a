"""Table tests of the image checks: URI syntax, registry, repository, tag and platform."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ecsdoctor.checks.image import (
    platform_mismatch,
    registry_region_mismatch,
    repository_not_found,
    tag_not_found,
    uri_malformed,
)
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.documents import (
    image_detail,
    image_index,
    image_not_found,
    repository,
    single_manifest,
)
from tests.checks.documents import (
    repository_not_found as repo_missing,
)
from tests.checks.fake_reader import Answer, FakeReader
from tests.checks.table import (
    EAST,
    TASK_ID,
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

Plant = Callable[[FakeReader], object]
NO_EVIDENCE = "a RULED_OUT verdict cites no evidence of the read it rests on"
SPLIT = (
    "two containers' verdicts share one key (check:resource); with two broken containers "
    "pipeline.rank keeps only the last CONFIRMED, so one finding is lost"
)
DIGEST = "sha256:" + "4f" * 32


def _world(
    where: Where, image: str, *plants: Plant, sidecar: tuple[str, str] | None = None, **td: Any
) -> Built:
    """A task of family `api` whose container `api` runs `image`; `sidecar` is (name, image)."""
    containers = [{"name": "api", "image": image, "essential": True, "memoryReservation": 256}]
    if sidecar:
        name, other = sidecar
        containers.append(
            {"name": name, "image": other, "essential": False, "memoryReservation": 64}
        )
    definition = task_definition(where, "api", 31, containers, **td)
    reader = task_reader(where, definition)
    for plant in plants:
        plant(reader)
    return task_context(reader, where, stopped_task(where, definition)), reader


def _repos(region: str, account: str, name: str | None, answer: Answer) -> Plant:
    """DescribeRepositories for one name (or, with name None, the registry's listing)."""
    names = {} if name is None else {"repositoryNames": [name]}
    return lambda r: r.on(
        "ecr",
        "DescribeRepositories",
        answer,
        region=region,
        registryId=account,
        **names,
    )


def _images(region: str, account: str, name: str, answer: Answer, **image_id: str) -> Plant:
    """DescribeImages of one tag/digest (or, without one, every image of the repository)."""
    ids = {"imageIds": [image_id]} if image_id else {}
    return lambda r: r.on(
        "ecr",
        "DescribeImages",
        answer,
        region=region,
        registryId=account,
        repositoryName=name,
        **ids,
    )


def _manifest(region: str, account: str, name: str, manifest: str, tag: str) -> Plant:
    answer = {
        "images": [
            {
                "registryId": account,
                "repositoryName": name,
                "imageId": {"imageDigest": "sha256:" + "ab" * 32, "imageTag": tag},
                "imageManifest": manifest,
                "imageManifestMediaType": "application/vnd.oci.image.index.v1+json",
            }
        ],
        "failures": [],
    }
    return lambda r: r.on(
        "ecr",
        "BatchGetImage",
        answer,
        region=region,
        registryId=account,
        repositoryName=name,
        imageIds=[{"imageTag": tag}],
    )


def _deny(service: str, operation: str) -> Plant:
    return lambda r: r.deny(service, operation)


def _found(where: Where, name: str) -> dict[str, Any]:
    return {"repositories": [repository(where.region, where.account, name)]}


EAST_TD = EAST.td_arn("api", 31)
WEST_TD = WEST.td_arn("api", 31)
EAST_API = f"arn:aws:ecr:us-east-1:{EAST.account}:repository/api"
WEST_API = f"arn:aws:ecr:eu-west-1:{WEST.account}:repository/payments/api"
EAST_TYPO = f"arn:aws:ecr:us-east-1:{EAST.account}:repository/api-servce"


# -- uri_malformed ------------------------------------------------------------------------------
URI_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST, f"{EAST.registry()}/API:latest"),
            Status.CONFIRMED,
            Kind.IMAGE_URI,
            EAST_TD,
            "repository 'API' is malformed",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-uppercase-repository",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, f"{WEST.registry()}/payments/api:1.4.2@sha256:xyz"),
            Status.CONFIRMED,
            Kind.IMAGE_URI,
            WEST_TD,
            "digest 'sha256:xyz' is not of the form sha256:<hex>",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-bad-digest",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, "ghcr.io/acme/payments-api:2025.11.1"),
            Status.RULED_OUT,
            Kind.IMAGE_URI,
            WEST_TD,
            "Image ghcr.io/acme/payments-api:2025.11.1 of container api is a well-formed reference",
            "ecs:DescribeTaskDefinition",
            evidence_bug=NO_EVIDENCE,
        ),
        id="ruled-out-well-formed",
    ),
    pytest.param(
        Row(
            # One container is fine, the other is not: one verdict must stand for the resource.
            lambda: _world(
                EAST,
                f"{EAST.registry()}/api:1.4.2",
                sidecar=("log-router", f"{EAST.registry()}/Fluent-Bit:3.1"),
            ),
            Status.CONFIRMED,
            Kind.IMAGE_URI,
            EAST_TD,
            "Container log-router of",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-sidecar-malformed",
        marks=pytest.mark.xfail(strict=True, reason=SPLIT),
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST, f"{EAST.registry()}/api:1", _deny("ecs", "DescribeTaskDefinition")
            ),
            Status.INCONCLUSIVE,
            Kind.IMAGE_URI,
            EAST.task_arn(TASK_ID),
            "access denied for ecs:DescribeTaskDefinition",
            permission="ecs:DescribeTaskDefinition",
        ),
        id="inconclusive-denied",
    ),
]


@pytest.mark.parametrize("row", URI_ROWS)
def test_uri_malformed(row: Row) -> None:
    verify(uri_malformed, row)


# -- registry_region_mismatch ---------------------------------------------------------------------
def _typo_region() -> Built:
    # The URI names us-west-2; the repository lives in the task's own us-east-1 registry.
    return _world(
        EAST,
        f"{EAST.account}.dkr.ecr.us-west-2.amazonaws.com/api:1.4.2",
        _repos("us-west-2", EAST.account, "api", repo_missing(EAST.account, "api")),
        _repos("us-east-1", EAST.account, "api", _found(EAST, "api")),
    )


def _typo_account() -> Built:
    # The URI names another account; the repository lives in the task's own account.
    return _world(
        WEST,
        "555566667777.dkr.ecr.eu-west-1.amazonaws.com/payments/api:3.2.0",
        _repos(
            "eu-west-1",
            "555566667777",
            "payments/api",
            repo_missing("555566667777", "payments/api"),
        ),
        _repos("eu-west-1", WEST.account, "payments/api", _found(WEST, "payments/api")),
    )


REGION_ROWS = [
    pytest.param(
        Row(
            _typo_region,
            Status.CONFIRMED,
            Kind.IMAGE_URI,
            EAST_TD,
            f"Repository {EAST_API} exists.",
            "ecr:DescribeRepositories",
        ),
        id="confirmed-other-region",
    ),
    pytest.param(
        Row(
            _typo_account,
            Status.CONFIRMED,
            Kind.IMAGE_URI,
            WEST_TD,
            "exists only in the task's own registry (eu-west-1, account 444455556666)",
            "ecr:DescribeRepositories",
        ),
        id="confirmed-other-account",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                f"{WEST.registry()}/payments/api:3.2.0",
                _repos("eu-west-1", WEST.account, "payments/api", _found(WEST, "payments/api")),
            ),
            Status.RULED_OUT,
            Kind.IMAGE_URI,
            WEST_TD,
            "payments/api",
            "ecr:DescribeRepositories",
        ),
        id="ruled-out-repository-where-uri-says",
        marks=pytest.mark.xfail(
            strict=True,
            reason="registry_region_mismatch returns [] when the URI is right: it cannot rule out",
        ),
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST, f"{EAST.registry()}/api:1.4.2", _deny("ecr", "DescribeRepositories")
            ),
            Status.INCONCLUSIVE,
            Kind.IMAGE_URI,
            EAST_TD,
            "access denied for ecr:DescribeRepositories",
            permission="ecr:DescribeRepositories",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        # Missing in the named registry and in the task's own: repository_not_found's to report.
        Row(
            lambda: _world(
                EAST,
                f"{EAST.account}.dkr.ecr.us-west-2.amazonaws.com/api:1.4.2",
                _repos("us-west-2", EAST.account, "api", repo_missing(EAST.account, "api")),
                _repos("us-east-1", EAST.account, "api", repo_missing(EAST.account, "api")),
            ),
            None,
        ),
        id="not-applicable-missing-everywhere",
    ),
    pytest.param(
        Row(lambda: _world(WEST, "docker.io/library/nginx:1.27"), None),
        id="not-applicable-docker-hub",
    ),
]


@pytest.mark.parametrize("row", REGION_ROWS)
def test_registry_region_mismatch(row: Row) -> None:
    verify(registry_region_mismatch, row)


# -- repository_not_found -----------------------------------------------------------------------
def _typo_name() -> Built:
    listing = {
        "repositories": [
            repository("us-east-1", EAST.account, n) for n in ("api-service", "worker", "web")
        ]
    }
    return _world(
        EAST,
        f"{EAST.registry()}/api-servce:1.4.2",
        _repos("us-east-1", EAST.account, None, listing),
        _repos("us-east-1", EAST.account, "api-servce", repo_missing(EAST.account, "api-servce")),
    )


REPOSITORY_ROWS = [
    pytest.param(
        Row(
            _typo_name,
            Status.CONFIRMED,
            Kind.ECR_REPOSITORY,
            EAST_TYPO,
            "Did you mean api-service?",
            "ecr:DescribeRepositories",
        ),
        id="confirmed-close-name",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                f"{WEST.registry()}/payments/api:3.2.0",
                _repos("eu-west-1", WEST.account, None, {"repositories": []}),
                _repos(
                    "eu-west-1",
                    WEST.account,
                    "payments/api",
                    repo_missing(WEST.account, "payments/api"),
                ),
            ),
            Status.CONFIRMED,
            Kind.ECR_REPOSITORY,
            WEST_API,
            "RepositoryNotFoundException for payments/api",
            "ecr:DescribeRepositories",
        ),
        id="confirmed-empty-registry",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                f"{WEST.registry()}/payments/api:3.2.0",
                _repos("eu-west-1", WEST.account, "payments/api", _found(WEST, "payments/api")),
            ),
            Status.RULED_OUT,
            Kind.ECR_REPOSITORY,
            WEST_API,
            f"Repository {WEST_API} exists",
            "ecr:DescribeRepositories",
            evidence_bug=NO_EVIDENCE,
        ),
        id="ruled-out-exists",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST, f"{EAST.registry()}/api:1.4.2", _deny("ecr", "DescribeRepositories")
            ),
            Status.INCONCLUSIVE,
            Kind.ECR_REPOSITORY,
            EAST_API,
            "access denied for ecr:DescribeRepositories",
            permission="ecr:DescribeRepositories",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        # The repository is in the task's own registry: registry_region_mismatch reports it.
        Row(_typo_region, None),
        id="not-applicable-moved",
    ),
    pytest.param(
        Row(lambda: _world(EAST, "docker.io/library/nginx:1.27"), None),
        id="not-applicable-docker-hub",
    ),
]


@pytest.mark.parametrize("row", REPOSITORY_ROWS)
def test_repository_not_found(row: Row) -> None:
    verify(repository_not_found, row)


# -- tag_not_found ------------------------------------------------------------------------------
def _tag_world(
    where: Where, image: str, name: str, *plants: Plant, sidecar: tuple[str, str] | None = None
) -> Built:
    found = _repos(where.region, where.account, name, _found(where, name))
    return _world(where, image, found, *plants, sidecar=sidecar)


def _stale_tag_plants() -> tuple[Plant, Plant]:
    listing = {
        "imageDetails": [
            image_detail(EAST.account, "api", ["1.4.1"], "2025-10-01T08:00:00+00:00"),
            image_detail(EAST.account, "api", ["1.4.2", "latest"], "2025-11-02T08:00:00+00:00"),
        ]
    }
    return (
        _images("us-east-1", EAST.account, "api", listing),
        _images(
            "us-east-1",
            EAST.account,
            "api",
            image_not_found(EAST.account, "api", "1.4.3"),
            imageTag="1.4.3",
        ),
    )


def _stale_tag() -> Built:
    return _tag_world(EAST, f"{EAST.registry()}/api:1.4.3", "api", *_stale_tag_plants())


def _empty_repository() -> Built:
    missing = image_not_found(WEST.account, "payments/api", DIGEST)
    return _tag_world(
        WEST,
        f"{WEST.registry()}/payments/api@{DIGEST}",
        "payments/api",
        _images("eu-west-1", WEST.account, "payments/api", {"imageDetails": []}),
        _images("eu-west-1", WEST.account, "payments/api", missing, imageDigest=DIGEST),
    )


TAG_ROWS = [
    pytest.param(
        Row(
            _stale_tag,
            Status.CONFIRMED,
            Kind.ECR_IMAGE,
            EAST_API,
            "ImageNotFoundException for 1.4.3",
            "ecr:DescribeImages",
        ),
        id="confirmed-missing-tag",
    ),
    pytest.param(
        Row(
            _stale_tag,
            Status.CONFIRMED,
            Kind.ECR_IMAGE,
            EAST_API,
            "its most recent tags are 1.4.2, latest, 1.4.1",
            "ecr:DescribeImages",
        ),
        id="confirmed-names-recent-tags",
    ),
    pytest.param(
        Row(
            _empty_repository,
            Status.CONFIRMED,
            Kind.ECR_IMAGE,
            WEST_API,
            "the repository is empty",
            "ecr:DescribeImages",
        ),
        id="confirmed-digest-in-empty-repository",
    ),
    pytest.param(
        Row(
            lambda: _tag_world(
                WEST,
                f"{WEST.registry()}/payments/api:3.2.0",
                "payments/api",
                _images(
                    "eu-west-1",
                    WEST.account,
                    "payments/api",
                    {
                        "imageDetails": [
                            image_detail(
                                WEST.account, "payments/api", ["3.2.0"], "2025-11-10T12:00:00+00:00"
                            )
                        ]
                    },
                    imageTag="3.2.0",
                ),
            ),
            Status.RULED_OUT,
            Kind.ECR_IMAGE,
            WEST_API,
            f"Image payments/api:3.2.0 exists in {WEST_API}",
            "ecr:DescribeImages",
            evidence_bug=NO_EVIDENCE,
        ),
        id="ruled-out-exists",
    ),
    pytest.param(
        Row(
            # The migrations container pulls an existing tag of the same repository.
            lambda: _tag_world(
                EAST,
                f"{EAST.registry()}/api:1.4.3",
                "api",
                _images("us-east-1", EAST.account, "api", {"imageDetails": []}, imageTag="1.4.2"),
                *_stale_tag_plants(),
                sidecar=("migrate", f"{EAST.registry()}/api:1.4.2"),
            ),
            Status.CONFIRMED,
            Kind.ECR_IMAGE,
            EAST_API,
            "ImageNotFoundException for 1.4.3",
            "ecr:DescribeImages",
        ),
        id="confirmed-one-of-two-tags",
        marks=pytest.mark.xfail(strict=True, reason=SPLIT),
    ),
    pytest.param(
        Row(
            lambda: _tag_world(
                EAST, f"{EAST.registry()}/api:1.4.2", "api", _deny("ecr", "DescribeImages")
            ),
            Status.INCONCLUSIVE,
            Kind.ECR_IMAGE,
            EAST_API,
            "access denied for ecr:DescribeImages",
            permission="ecr:DescribeImages",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        # No repository: repository_not_found reports it, not this check.
        Row(
            lambda: _world(
                EAST,
                f"{EAST.registry()}/api:1.4.2",
                _repos("us-east-1", EAST.account, "api", repo_missing(EAST.account, "api")),
            ),
            None,
        ),
        id="not-applicable-no-repository",
    ),
]


@pytest.mark.parametrize("row", TAG_ROWS)
def test_tag_not_found(row: Row) -> None:
    verify(tag_not_found, row)


# -- platform_mismatch --------------------------------------------------------------------------
def _platform(where: Where, wanted: str | None, manifest: Plant) -> Built:
    name = "api" if where is EAST else "payments/api"
    td = {"runtimePlatform": {"cpuArchitecture": wanted, "operatingSystemFamily": "LINUX"}}
    return _world(where, f"{where.registry()}/{name}:2.0.0", manifest, **(td if wanted else {}))


PLATFORM_ROWS = [
    pytest.param(
        Row(
            lambda: _platform(
                EAST,
                "ARM64",
                _manifest("us-east-1", EAST.account, "api", image_index("amd64"), "2.0.0"),
            ),
            Status.CONFIRMED,
            Kind.ECR_IMAGE,
            EAST_API,
            "Task definition asks for ARM64 but image api:2.0.0 only offers amd64",
            "ecr:BatchGetImage",
        ),
        id="confirmed-no-arm64-variant",
    ),
    pytest.param(
        Row(
            lambda: _platform(
                WEST,
                "X86_64",
                _manifest(
                    "eu-west-1",
                    WEST.account,
                    "payments/api",
                    image_index("amd64", "arm64"),
                    "2.0.0",
                ),
            ),
            Status.RULED_OUT,
            Kind.ECR_IMAGE,
            WEST_API,
            "Image payments/api:2.0.0 has a amd64 variant",
            "ecr:BatchGetImage",
            evidence_bug=NO_EVIDENCE,
        ),
        id="ruled-out-has-variant",
    ),
    pytest.param(
        Row(
            lambda: _platform(EAST, "ARM64", _deny("ecr", "BatchGetImage")),
            Status.INCONCLUSIVE,
            Kind.ECR_IMAGE,
            EAST_API,
            "access denied for ecr:BatchGetImage",
            permission="ecr:BatchGetImage",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _platform(WEST, None, lambda r: r), None),
        id="not-applicable-no-runtime-platform",
    ),
    pytest.param(
        # A single-platform manifest keeps its architecture in a blob the check does not read.
        Row(
            lambda: _platform(
                EAST,
                "ARM64",
                _manifest("us-east-1", EAST.account, "api", single_manifest(), "2.0.0"),
            ),
            None,
        ),
        id="not-applicable-single-platform-manifest",
    ),
]


@pytest.mark.parametrize("row", PLATFORM_ROWS)
def test_platform_mismatch(row: Row) -> None:
    verify(platform_mismatch, row)


#: Every check of the module and its table (test_registry reads them).
TABLES = {
    uri_malformed: URI_ROWS,
    registry_region_mismatch: REGION_ROWS,
    repository_not_found: REPOSITORY_ROWS,
    tag_not_found: TAG_ROWS,
    platform_mismatch: PLATFORM_ROWS,
}
