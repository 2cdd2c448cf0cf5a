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
    if ecr and _partition_consistent(registry, ecr["region"]):
        return ImageRef(raw, registry, repository, tag, digest, ecr["account"], ecr["region"])
    typo = registry_typo(registry)
    if typo is not None:
        raise ValueError(typo.sentence)
    return ImageRef(raw, registry, repository, tag, digest)


# --- registry hosts (issue 11) ----------------------------------------------------------------------
# ECR private registries: ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn], exactly
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html); China regions use
# the .com.cn domain and only they do.

#: Public registries by their documented hosts; VPC endpoints never serve them.
PUBLIC_REGISTRIES: dict[str, str] = {
    "docker.io": "Docker Hub",
    "registry-1.docker.io": "Docker Hub",
    "index.docker.io": "Docker Hub",
    "public.ecr.aws": "Amazon ECR Public",
    "ghcr.io": "GitHub Container Registry",
    "quay.io": "Quay.io",
    "gcr.io": "Google Container Registry",
    "mcr.microsoft.com": "Microsoft Artifact Registry",
    "registry.k8s.io": "Kubernetes registry",
    "registry.gitlab.com": "GitLab Container Registry",
    "nvcr.io": "NVIDIA NGC",
    "docker.elastic.co": "Elastic registry",
}

#: The default repository prefixes ECR's console offers for pull-through cache rules.
PULL_THROUGH_PREFIXES: dict[str, str] = {
    "ecr-public": "public.ecr.aws",
    "docker-hub": "registry-1.docker.io",
    "quay": "quay.io",
    "k8s": "registry.k8s.io",
    "github": "ghcr.io",
    "azure": "*.azurecr.io",
    "gitlab": "registry.gitlab.com",
    "chainguard": "cgr.dev",
}

_REGION_LABEL = re.compile(r"^(?P<region>(?:[a-z]{2}(?:-gov|-iso[a-z]?)?)-[a-z]+-\d)$")
_ACCOUNT_LABEL = re.compile(r"^\d{12}$")


@dataclass(frozen=True, slots=True)
class RegistryTypo:
    """A registry host that is almost a real one: what is wrong and the host meant."""

    host: str
    suggestion: str | None
    problem: str

    @property
    def sentence(self) -> str:
        """The ValueError text image.uri_malformed reports."""
        meant = f"; did you mean {self.suggestion}?" if self.suggestion else ""
        return f"registry host {self.host!r} is not a valid registry host: {self.problem}{meant}"


def _partition_consistent(host: str, region: str) -> bool:
    return host.endswith(".cn") == region.startswith("cn-")


def registry_typo(host: str) -> RegistryTypo | None:
    """Is `host` a mistyped ECR or well-known public registry host? None when it is fine or
    simply unknown (a private registry of the owner's own is not a typo)."""
    name = host.lower().split(":", 1)[0]
    if name in PUBLIC_REGISTRIES or name.endswith((".gcr.io", ".pkg.dev", ".azurecr.io")):
        return None
    labels = name.split(".")
    account = next((label for label in labels if _ACCOUNT_LABEL.match(label)), None)
    region = next(
        (m["region"] for m in (_REGION_LABEL.match(label) for label in labels) if m), None
    )
    ecr_like = any(
        label in ("ecr", "erc", "ecr-fips", "erc-fips", "dkr", "dkr-ecr", "drk", "dkrecr")
        for label in labels
    ) or ("amazonaws" in name or "amazon" in name)
    if account and ecr_like:
        match = _ECR_HOST.match(name)
        if match and _partition_consistent(name, match["region"]):
            return None
        fips = "-fips" if "fips" in name else ""
        suffix = ".amazonaws.com.cn" if region and region.startswith("cn-") else ".amazonaws.com"
        suggestion = f"{account}.dkr.ecr{fips}.{region}{suffix}" if region else None
        return RegistryTypo(host, suggestion, _ecr_problem(name, labels, region))
    close = _closest_public(name)
    if close is not None:
        return RegistryTypo(host, close, f"it is one or two characters away from {close}")
    return None


def _ecr_problem(name: str, labels: list[str], region: str | None) -> str:
    """What exactly deviates from ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]."""
    if region is None:
        return "no AWS region in it"
    if "erc" in labels or "erc-fips" in labels:
        return "'erc' where Amazon ECR hosts have 'ecr'"
    if "dkr" not in labels:
        return "the 'dkr' label is missing (ECR hosts are ACCOUNT.dkr.ecr.REGION.amazonaws.com)"
    if not (name.endswith(".amazonaws.com") or name.endswith(".amazonaws.com.cn")):
        return "the domain is not amazonaws.com"
    if region.startswith("cn-") != name.endswith(".cn"):
        return (
            "China regions use amazonaws.com.cn"
            if region.startswith("cn-")
            else "only China regions use amazonaws.com.cn"
        )
    return "the labels are not ACCOUNT.dkr.ecr.REGION.amazonaws.com in that order"


def _closest_public(name: str) -> str | None:
    import difflib

    if "." not in name:
        return None
    found = difflib.get_close_matches(name, list(PUBLIC_REGISTRIES), n=1, cutoff=0.84)
    return found[0] if found and found[0] != name else None


def pull_through_upstream(ref: ImageRef) -> str | None:
    """The upstream registry of an ECR pull-through cache repository (by its default prefix)."""
    if not ref.is_ecr:
        return None
    first = ref.repository.split("/", 1)[0]
    return PULL_THROUGH_PREFIXES.get(first) if "/" in ref.repository else None


def registry_label(ref: ImageRef) -> str:
    """A person's name for the registry: "Amazon ECR in us-east-1 (account ...)", "Docker Hub"."""
    if ref.is_ecr:
        return f"Amazon ECR in {ref.ecr_region} (account {ref.ecr_account})"
    return PUBLIC_REGISTRIES.get(ref.registry, ref.registry)


_LOOKUP = re.compile(
    r"lookup (?P<host>[A-Za-z0-9._-]+)(?: on (?P<server>[0-9A-Fa-f.:\[\]]+?)(?::53)?)?: "
    r"(?P<error>no such host|server misbehaving)"
)


@dataclass(frozen=True, slots=True)
class DnsFailure:
    """A name the task could not resolve, from Go's resolver error text in an ECS message."""

    host: str
    server: str | None  # the resolver that answered, when the message names it
    error: str  # "no such host" | "server misbehaving"


def dns_failure(message: str) -> DnsFailure | None:
    """`dial tcp: lookup HOST on SERVER:53: no such host` and its variants; None otherwise."""
    match = _LOOKUP.search(message)
    if match is None:
        return None
    return DnsFailure(match["host"].rstrip("."), match["server"], match["error"])
