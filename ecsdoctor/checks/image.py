"""Does the image each container names exist: well-formed URI, repository, tag, platform."""

from __future__ import annotations

import contextlib
import difflib
import json

from ecsdoctor.arn import ImageRef
from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.errors import ApiError, ReadError
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status
from ecsdoctor.snapshot import Raw, TaskSnapshot

_ARCH = {"X86_64": "amd64", "ARM64": "arm64"}
_INDEX_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)


def _repo_arn(region: str, account: str, repository: str) -> str:
    return f"arn:aws:ecr:{region}:{account}:repository/{repository}"


def _repository(
    snap: TaskSnapshot, ref: ImageRef, region: str | None = None, account: str | None = None
) -> Raw | None:
    """The repository, or None when ECR says it does not exist."""
    try:
        return snap.repository(ref, region, account)
    except ApiError as err:
        if err.code == "RepositoryNotFoundException":
            return None
        raise


def _ecr_images(ctx: CheckContext) -> list[tuple[str, ImageRef]]:
    return [(c, r) for c, _, r in ctx.snap.images() if isinstance(r, ImageRef) and r.is_ecr]


def _moved(snap: TaskSnapshot, ref: ImageRef) -> bool:
    """Does the URI name another region/account while the repository sits in the task's own?"""
    if (ref.ecr_region, ref.ecr_account) == (snap.region, snap.account):
        return False
    try:
        return _repository(snap, ref, snap.region, snap.account) is not None
    except ReadError:
        return False


@check(Kind.IMAGE_URI, reads=(), rank=20)
def uri_malformed(ctx: CheckContext) -> list[CheckResult]:
    """A container's image reference is not a valid image URI."""
    out: list[CheckResult] = []
    td = ctx.snap.task_definition_arn
    for container, image, ref in ctx.snap.images():
        if isinstance(ref, ValueError):
            detail = (
                f"Container {container} of {td} names image {image!r}, which is malformed: {ref}."
            )
            out.append(
                ctx.result(
                    Kind.IMAGE_URI,
                    td,
                    Status.CONFIRMED,
                    detail,
                    (Evidence(td, "ecs:DescribeTaskDefinition", detail),),
                    f"Fix the image of container {container} in a new revision of {td}.",
                )
            )
        else:
            out.append(
                ctx.result(
                    Kind.IMAGE_URI,
                    td,
                    Status.RULED_OUT,
                    f"Image {image} of container {container} is a well-formed reference.",
                )
            )
    return out


@check(Kind.IMAGE_URI, reads=("ecr:DescribeRepositories",), rank=15)
def registry_region_mismatch(ctx: CheckContext) -> list[CheckResult]:
    """The image URI names another region or account than where the repository actually is."""
    out: list[CheckResult] = []
    snap = ctx.snap
    td = snap.task_definition_arn
    for container, ref in _ecr_images(ctx):
        try:
            exists_there = _repository(snap, ref) is not None
        except ReadError as err:
            out.append(ctx.gap(Kind.IMAGE_URI, td, err))
            continue
        if exists_there:
            out.append(
                ctx.result(
                    Kind.IMAGE_URI,
                    td,
                    Status.RULED_OUT,
                    f"Container {container} pulls from repository {ref.repository}, which exists "
                    f"where its URI says ({ref.registry}).",
                    (
                        Evidence(
                            str(ref.repository_arn),
                            "ecr:DescribeRepositories",
                            f"Repository {ref.repository} exists in {ref.registry}.",
                        ),
                    ),
                )
            )
            continue
        if not _moved(snap, ref):
            continue
        here = _repo_arn(snap.region, snap.account, ref.repository)
        detail = (
            f"Container {container} pulls {ref.raw}, which names registry {ref.registry} "
            f"({ref.ecr_region}, account {ref.ecr_account}), but repository {ref.repository} exists "
            f"only in the task's own registry ({snap.region}, account {snap.account}): the URI is "
            "most likely a typo, and the wrong registry is also what the network cannot reach."
        )
        evidence = (
            Evidence(
                str(ref.repository_arn),
                "ecr:DescribeRepositories",
                f"Repository {ref.repository} does not exist in {ref.registry}.",
            ),
            Evidence(here, "ecr:DescribeRepositories", f"Repository {here} exists."),
        )
        fixed = (
            f"{snap.account}.dkr.ecr.{snap.region}.amazonaws.com/{ref.repository}:{ref.reference}"
        )
        out.append(
            ctx.result(
                Kind.IMAGE_URI,
                td,
                Status.CONFIRMED,
                detail,
                evidence,
                f"Register a new revision of {td} with image {fixed} for "
                f"container {container}, then update the service to it.",
            )
        )
    return out


@check(Kind.ECR_REPOSITORY, reads=("ecr:DescribeRepositories",), rank=20)
def repository_not_found(ctx: CheckContext) -> list[CheckResult]:
    """The ECR repository the image names does not exist (did you mean a close name?)."""
    out: list[CheckResult] = []
    snap = ctx.snap
    for container, ref in _ecr_images(ctx):
        arn = str(ref.repository_arn)
        try:
            repo = _repository(snap, ref)
        except ReadError as err:
            out.append(ctx.gap(Kind.ECR_REPOSITORY, arn, err))
            continue
        if repo is not None:
            out.append(
                ctx.result(
                    Kind.ECR_REPOSITORY,
                    arn,
                    Status.RULED_OUT,
                    f"Repository {arn} exists.",
                )
            )
            continue
        if _moved(snap, ref):
            continue  # reported as registry_region_mismatch
        names: list[str] = []
        with contextlib.suppress(ReadError):
            names = [r["repositoryName"] for r in snap.repositories(ref)]
        close = difflib.get_close_matches(ref.repository, names, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        detail = (
            f"Container {container} pulls {ref.raw}, but repository {ref.repository} does not "
            f"exist in registry {ref.registry}.{hint}"
        )
        evidence: tuple[Evidence, ...] = (
            Evidence(
                arn,
                "ecr:DescribeRepositories",
                f"RepositoryNotFoundException for {ref.repository}.",
            ),
        )
        if names:
            evidence += (
                Evidence(
                    str(ref.ecr_account),
                    "ecr:DescribeRepositories",
                    f"The registry holds {len(names)} repositories: {', '.join(sorted(names)[:10])}.",
                ),
            )
        fix = (
            f"Correct the image URI of container {container} in {snap.task_definition_arn}"
            + (f" (repository {close[0]}?)" if close else "")
            + f", or create repository {ref.repository} and push the image."
        )
        out.append(
            ctx.result(
                Kind.ECR_REPOSITORY,
                arn,
                Status.CONFIRMED,
                detail,
                evidence,
                fix,
            )
        )
    return out


@check(Kind.ECR_IMAGE, reads=("ecr:DescribeImages", "ecr:DescribeRepositories"), rank=20)
def tag_not_found(ctx: CheckContext) -> list[CheckResult]:
    """The image tag or digest does not exist in its (existing) ECR repository."""
    out: list[CheckResult] = []
    snap = ctx.snap
    for container, ref in _ecr_images(ctx):
        arn = str(ref.repository_arn)
        try:
            if _repository(snap, ref) is None:
                continue
            try:
                snap.image_metadata(ref)
            except ApiError as err:
                if err.code != "ImageNotFoundException":
                    raise
            else:
                out.append(
                    ctx.result(
                        Kind.ECR_IMAGE,
                        arn,
                        Status.RULED_OUT,
                        f"Image {ref.repository}:{ref.reference} exists in {arn}.",
                    )
                )
                continue
            images = snap.repository_images(ref)
        except ReadError as err:
            out.append(ctx.gap(Kind.ECR_IMAGE, arn, err))
            continue
        images = sorted(images, key=lambda i: str(i.get("imagePushedAt", "")), reverse=True)
        recent = [t for i in images for t in i.get("imageTags", [])][:5]
        detail = (
            f"Container {container} pulls {ref.repository}:{ref.reference}, which does not exist "
            f"in repository {arn}"
            + (
                f"; its most recent tags are {', '.join(recent)}."
                if recent
                else "; the repository is empty."
            )
        )
        evidence = (
            Evidence(arn, "ecr:DescribeImages", f"ImageNotFoundException for {ref.reference}."),
        )
        fix = (
            f"Push {ref.repository}:{ref.reference} to {arn}, or point container {container} of "
            f"{snap.task_definition_arn} at an existing tag"
            + (f" such as {recent[0]}" if recent else "")
            + ". Check the repository's lifecycle policy if the tag was deleted."
        )
        out.append(ctx.result(Kind.ECR_IMAGE, arn, Status.CONFIRMED, detail, evidence, fix))
    return out


@check(Kind.ECR_IMAGE, reads=("ecr:BatchGetImage",), rank=25)
def platform_mismatch(ctx: CheckContext) -> list[CheckResult]:
    """The image offers no variant for the task's CPU architecture (runtimePlatform)."""
    snap = ctx.snap
    wanted_raw = (snap.task_definition.get("runtimePlatform") or {}).get("cpuArchitecture")
    if not wanted_raw:
        return []
    wanted = _ARCH.get(str(wanted_raw).upper(), str(wanted_raw).lower())
    out: list[CheckResult] = []
    for _container, ref in _ecr_images(ctx):
        arn = str(ref.repository_arn)
        image_id = {"imageDigest": ref.digest} if ref.digest else {"imageTag": ref.reference}
        try:
            response = snap.reader.call(
                "ecr",
                "BatchGetImage",
                region=ref.ecr_region,
                registryId=ref.ecr_account,
                repositoryName=ref.repository,
                imageIds=[image_id],
                acceptedMediaTypes=list(_INDEX_TYPES),
            )
        except ApiError as err:
            if err.code in ("RepositoryNotFoundException", "ImageNotFoundException"):
                continue  # reported by repository_not_found / tag_not_found
            out.append(ctx.gap(Kind.ECR_IMAGE, arn, err))
            continue
        except ReadError as err:
            out.append(ctx.gap(Kind.ECR_IMAGE, arn, err))
            continue

        for image in response.get("images", []):
            try:
                manifest = json.loads(image.get("imageManifest", "{}"))
            except ValueError:
                continue
            if manifest.get("mediaType") not in _INDEX_TYPES and "manifests" not in manifest:
                continue  # a single-platform manifest: its architecture is in a blob we do not read
            archs = sorted(
                {
                    str((m.get("platform") or {}).get("architecture"))
                    for m in manifest.get("manifests", [])
                }
            )
            if wanted in archs:
                out.append(
                    ctx.result(
                        Kind.ECR_IMAGE,
                        arn,
                        Status.RULED_OUT,
                        f"Image {ref.repository}:{ref.reference} has a {wanted} variant.",
                    )
                )
            else:
                detail = (
                    f"Task definition asks for {wanted_raw} but image {ref.repository}:{ref.reference} "
                    f"only offers {', '.join(archs) or 'no platforms'}."
                )
                out.append(
                    ctx.result(
                        Kind.ECR_IMAGE,
                        arn,
                        Status.CONFIRMED,
                        detail,
                        (Evidence(arn, "ecr:BatchGetImage", detail),),
                        f"Build and push a {wanted} image (docker buildx --platform linux/{wanted}), "
                        f"or set runtimePlatform.cpuArchitecture to match the image.",
                    )
                )
    return out
