"""ARNs and image references: parsed strictly, because region and account come from them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecsdoctor.errors import InputError

_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f):"
    r"(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}|aws)?:(?P<resource>.+)$"
)
_TASK_ID = re.compile(r"^[0-9a-f]{32}$|^[0-9a-f-]{36}$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


@dataclass(frozen=True, slots=True)
class Arn:
    """The parts of an ARN."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(text: str) -> Arn | None:
    """The ARN's parts, or None when `text` is not an ARN."""
    match = _ARN.match(text.strip())
    if not match:
        return None
    return Arn(
        match["partition"],
        match["service"],
        match["region"],
        match["account"] or "",
        match["resource"],
    )


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A task to diagnose: its ARN or id, its cluster, and where it lives."""

    task: str
    cluster: str
    region: str | None
    account: str | None


def parse_task_ref(task: str, cluster: str | None = None) -> TaskRef:
    """Accept a task ARN (new or old format) or a task id with a cluster; reject anything else."""
    text = task.strip()
    if len(text) > 2048 or not text:
        raise InputError("malformed task ARN: empty or too long")
    if text.startswith("arn:"):
        arn = parse_arn(text)
        if arn is None or arn.service != "ecs" or not arn.resource.startswith("task/"):
            raise InputError(
                f"malformed task ARN {text[:120]!r}: expected "
                "arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/TASK_ID"
            )
        if not arn.region or not arn.account:
            raise InputError(f"malformed task ARN {text[:120]!r}: no region or account")
        parts = arn.resource.split("/")
        if len(parts) == 3 and _NAME.match(parts[1]) and _TASK_ID.match(parts[2]):
            return TaskRef(text, cluster or parts[1], arn.region, arn.account)
        if len(parts) == 2 and _TASK_ID.match(parts[1]):
            # The old ARN format has no cluster in it.
            return TaskRef(text, cluster or "default", arn.region, arn.account)
        raise InputError(
            f"malformed task ARN {text[:120]!r}: expected task/CLUSTER/TASK_ID after the account"
        )
    if _TASK_ID.match(text):
        if not cluster:
            raise InputError("a task id needs --cluster (or give the full task ARN)")
        return TaskRef(text, cluster, None, None)
    raise InputError(f"malformed task ARN {text[:120]!r}: not an ECS task ARN or task id")


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """A service to diagnose: its name, its cluster, and where it lives."""

    name: str
    cluster: str
    region: str | None
    account: str | None


def parse_service_ref(service: str, cluster: str | None = None) -> ServiceRef:
    """Accept a service ARN (new or old format) or a name with a cluster; reject anything else."""
    text = service.strip()
    if len(text) > 2048 or not text:
        raise InputError("malformed service ARN: empty or too long")
    if text.startswith("arn:"):
        arn = parse_arn(text)
        if arn is None or arn.service != "ecs" or not arn.resource.startswith("service/"):
            raise InputError(
                f"malformed service ARN {text[:120]!r}: expected "
                "arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE"
            )
        if not arn.region or not arn.account:
            raise InputError(f"malformed service ARN {text[:120]!r}: no region or account")
        parts = arn.resource.split("/")
        if len(parts) == 3 and _NAME.match(parts[1]) and _NAME.match(parts[2]):
            return ServiceRef(parts[2], cluster or parts[1], arn.region, arn.account)
        if len(parts) == 2 and _NAME.match(parts[1]):
            # The old ARN format has no cluster in it.
            return ServiceRef(parts[1], cluster or "default", arn.region, arn.account)
        raise InputError(
            f"malformed service ARN {text[:120]!r}: expected service/CLUSTER/NAME after the account"
        )
    if _NAME.match(text):
        return ServiceRef(text, parse_cluster_name(cluster or "default"), None, None)
    raise InputError(f"malformed service name {text[:120]!r}: letters, digits, - and _ only")


def parse_cluster_name(cluster: str) -> str:
    """A cluster name or ARN -> what ECS calls accept; reject anything else."""
    text = cluster.strip()
    if text.startswith("arn:"):
        arn = parse_arn(text)
        if arn is None or arn.service != "ecs" or not arn.resource.startswith("cluster/"):
            raise InputError(f"malformed cluster ARN {text[:120]!r}")
        return text
    if not _NAME.match(text):
        raise InputError(f"malformed cluster name {text[:120]!r}: letters, digits, - and _ only")
    return text


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A container image reference, split the way registries read it."""

    raw: str
    registry: str  # host, "docker.io" for Docker Hub
    repository: str
    tag: str | None
    digest: str | None
    ecr_account: str | None = None
    ecr_region: str | None = None

    @property
    def is_ecr(self) -> bool:
        """A private Amazon ECR registry (not ECR Public)."""
        return self.ecr_account is not None

    @property
    def is_public_internet(self) -> bool:
        """Reaching this registry needs the internet: VPC endpoints never serve it."""
        return not self.is_ecr

    @property
    def repository_arn(self) -> str | None:
        """The ECR repository's ARN (None outside private ECR)."""
        if not self.is_ecr:
            return None
        return f"arn:aws:ecr:{self.ecr_region}:{self.ecr_account}:repository/{self.repository}"

    @property
    def reference(self) -> str:
        """The tag or digest ECS will ask for (`latest` when the URI names neither)."""
        return self.digest or self.tag or "latest"


_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)"
    r"\.amazonaws\.com(?:\.cn)?$"
)
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
_HOST = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.?)+(?::\d+)?$")


def parse_image(image: str) -> ImageRef:
    """Parse an image reference as Docker does; raise ValueError saying what is malformed."""
    raw = image
    if not image or image != image.strip() or any(c.isspace() for c in image):
        raise ValueError("contains whitespace or is empty")
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
        if not _DIGEST.match(digest):
            raise ValueError(f"digest {digest!r} is not of the form sha256:<hex>")
    name, tag = image, None
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = image.rsplit(":", 1)
        if not _TAG.match(tag):
            raise ValueError(f"tag {tag!r} is not a valid tag")
    parts = name.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, parts[1:]
        if not _HOST.match(registry):
            raise ValueError(f"registry host {registry!r} is malformed")
    else:
        registry, path = "docker.io", parts
    if not path or not all(_COMPONENT.match(p) for p in path):
        raise ValueError(
            f"repository {'/'.join(path)!r} is malformed (lowercase letters, digits, "
            "separators . _ - and / only)"
        )
    repository = "/".join(path)
    ecr = _ECR_HOST.match(registry)
    if ecr:
        return ImageRef(raw, registry, repository, tag, digest, ecr["account"], ecr["region"])
    if ".dkr.ecr." in registry:
        raise ValueError(f"registry host {registry!r} looks like Amazon ECR but is malformed")
    return ImageRef(raw, registry, repository, tag, digest)
