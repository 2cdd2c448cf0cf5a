"""Meta-tests over the whole shipped knowledge base: it loads, it is unambiguous, and it generalises.

The generalisation tests take the real example messages of every entry and vary what differs from
one incident to the next (region, account, repository, registry host, secret name, console
truncation): the same entry must still win, alone at the top.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest

from ecsdoctor.checks import REGISTRY
from ecsdoctor.kb import KnowledgeBase, load_entries
from ecsdoctor.kb.lint import lint_examples, lint_samples
from ecsdoctor.kb.loader import FACT_PLACEHOLDERS, placeholders
from ecsdoctor.kinds import KIND_NAMES
from ecsdoctor.models import Severity, Signal, SignalSource

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
SAMPLES = ROOT / "sample_events"

SEED_PULL = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
    "ref 111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/myrepo:v1: failed to do request: Head "
    '"https://111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/v2/myrepo/manifests/v1": '
    "dial tcp 10.0.248.239:443: i/o timeout"
)
SEED_AUTH = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 "
    'time(s): RequestError: send request failed caused by: Post "https://api.ecr.ap-northeast-1.'
    'amazonaws.com/": dial tcp 3.112.64.17:443: i/o timeout. Please check your task network '
    "configuration."
)


@cache
def kb() -> KnowledgeBase:
    return KnowledgeBase(load_entries(KNOWLEDGE, known_checks=frozenset(REGISTRY)))


def winner(text: str, source: SignalSource = SignalSource.STOPPED_REASON, pasted: bool = False):
    """(top entry id, ids tied with it at the top priority, captures)."""
    found = kb().candidates(Signal(source=source, text=text, pasted=pasted))
    if not found:
        return None, [], {}
    top = found[0]
    ties = [c.entry.id for c in found[1:] if c.entry.priority == top.entry.priority]
    return top.entry.id, ties, dict(top.captures)


# --------------------------------------------------------------------------- the base as a whole


def test_loader_accepts_the_whole_base() -> None:
    entries = load_entries(KNOWLEDGE, known_checks=frozenset(REGISTRY))
    assert len(entries) >= 30
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        family, slug = entry.id.split(".")
        assert (KNOWLEDGE / family / f"{slug}.toml").is_file()


def test_every_example_lands_on_its_own_entry_without_a_tie() -> None:
    assert lint_examples(kb()) == []


def test_every_entry_has_sourced_samples_that_land_on_it() -> None:
    assert lint_samples(kb(), SAMPLES) == []


def test_every_entry_has_a_sample_directory() -> None:
    missing = [e.id for e in kb().entries if not SAMPLES.joinpath(*e.id.split(".")).is_dir()]
    assert missing == []


def test_remediation_placeholders_are_captures_of_every_pattern_or_facts() -> None:
    problems = []
    for entry in kb().entries:
        common = frozenset.intersection(*(p.groups for p in entry.patterns))
        for hyp in entry.hypotheses:
            problems.extend(
                f"{entry.id}.{hyp.id}: {{{name}}}"
                for name in placeholders(hyp.remediation)
                if name not in common and name not in FACT_PLACEHOLDERS
            )
    assert problems == []


def test_hypothesis_checks_and_kinds_are_known() -> None:
    problems = []
    for entry in kb().entries:
        for hyp in entry.hypotheses:
            problems += [f"{entry.id}.{hyp.id}: check {c}" for c in hyp.checks if c not in REGISTRY]
            problems += [f"{entry.id}.{hyp.id}: kind {k}" for k in hyp.kinds if k not in KIND_NAMES]
    assert problems == []


def test_failure_entries_have_hypotheses_and_https_docs() -> None:
    for entry in kb().entries:
        assert entry.docs and all(d.startswith("https://") for d in entry.docs), entry.id
        if entry.severity is Severity.FAILURE:
            assert entry.hypotheses, entry.id
        assert 0 <= entry.priority <= 100


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("UserInitiated", SignalSource.STOP_CODE),
        ("Task stopped by user", SignalSource.STOPPED_REASON),
        (
            "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
            SignalSource.STOPPED_REASON,
        ),
    ],
)
def test_normal_stops_are_info(text: str, source: SignalSource) -> None:
    entry_id, ties, _ = winner(text, source)
    assert entry_id is not None and ties == []
    assert kb().by_id[entry_id].severity is Severity.INFO


def test_info_entries_exist_for_user_stops_and_scaling() -> None:
    assert kb().by_id["stop_code.user_initiated"].severity is Severity.INFO
    assert kb().by_id["stop_code.scaling_activity"].severity is Severity.INFO


# --------------------------------------------------------------------------- the seed incidents


def test_seed_pull_timeout() -> None:
    for source in (SignalSource.STOPPED_REASON, SignalSource.CONTAINER_REASON):
        entry_id, ties, captures = winner(SEED_PULL, source)
        assert entry_id == "image_pull.network_timeout"
        assert ties == []
        assert captures["ip"] == "10.0.248.239"
        assert captures["registry"] == "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com"
        assert captures["repository"] == "myrepo"
        assert captures.get("tag") == "v1"
        assert captures.get("port") == "443"


def test_seed_registry_auth_timeout() -> None:
    entry_id, ties, captures = winner(SEED_AUTH)
    assert entry_id == "resource_init.registry_auth_unreachable"
    assert ties == []
    assert captures.get("ip") == "3.112.64.17"
    assert captures.get("region") == "ap-northeast-1"
    entry = kb().by_id[entry_id]
    wrong_uri = [h for h in entry.hypotheses if "image_uri" in h.kinds]
    assert wrong_uri, "a wrong image URI must be among the hypotheses"
    assert any("image" in h.claim.lower() and "uri" in h.claim.lower() for h in wrong_uri)


def test_seed_pull_hypotheses_cover_wrong_image_host() -> None:
    entry = kb().by_id["image_pull.network_timeout"]
    assert entry.hypotheses[0].id == "no_network_path"
    assert any("image_uri" in h.kinds for h in entry.hypotheses)


# --------------------------------------------------------------------------- generalisation

REGION = re.compile(
    r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:north|south|east|west|central|northeast|southeast|"
    r"northwest|southwest)-\d\b"
)
ACCOUNT = re.compile(r"(?<![\d.])\d{12}(?![\d.])")
ECR_HOST = re.compile(r"\b\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com")
SECRET_NAME = re.compile(r"(:secret:)([A-Za-z0-9_/+=.@-]+?)(-[A-Za-z0-9]{6})?(?=[\s'\",:]|$)")
PARAMETER_NAME = re.compile(r"(:parameter/)([A-Za-z0-9_./-]+)")


def _sub(pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str]):
    def apply(text: str) -> str:
        return pattern.sub(repl, text)

    return apply


def _rename_repository(text: str) -> str:
    """Rename the repository of ECR image references (host/REPO[:tag]) and the v2 URL path."""
    repos = set(
        re.findall(r"\.amazonaws\.com/(?!v2/)([a-z0-9][a-z0-9._/-]*?)(?=[:@\s\"']|$)", text)
    )
    repos |= set(re.findall(r"\.amazonaws\.com/v2/([a-z0-9][a-z0-9._/-]*?)/manifests/", text))
    for repo in sorted(repos, key=len, reverse=True):
        text = re.sub(
            r"(?<=\.amazonaws\.com/)" + re.escape(repo) + r"(?=[:@\s\"']|$)",
            "team-a/payments-api",
            text,
        )
        text = text.replace(f"/v2/{repo}/manifests/", "/v2/team-a/payments-api/manifests/")
    return text


def _registry(host: str) -> Callable[[str], str]:
    def apply(text: str) -> str:
        return ECR_HOST.sub(host, text)

    return apply


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "region-eu-central-1": _sub(REGION, "eu-central-1"),
    "region-sa-east-1": _sub(REGION, "sa-east-1"),
    "account": _sub(ACCOUNT, "444455556666"),
    "repository": _rename_repository,
    "registry-dockerhub": _registry("registry-1.docker.io"),
    "registry-ghcr": _registry("ghcr.io"),
    "registry-quay": _registry("quay.io"),
    "secret-name": _sub(SECRET_NAME, lambda m: f"{m[1]}prod/billing/db-credentials-Xy12Ab"),
    "parameter-name": _sub(PARAMETER_NAME, lambda m: f"{m[1]}prod/checkout/STRIPE_KEY"),
}


def _examples() -> Iterator[tuple[str, int, int, str, SignalSource]]:
    for entry in kb().entries:
        for p_index, pattern in enumerate(entry.patterns):
            for e_index, example in enumerate(pattern.examples):
                source = sorted(pattern.sources)[0]
                yield entry.id, p_index, e_index, example, source


def _variants() -> list[pytest.param]:
    params = []
    for entry_id, p_index, e_index, example, source in _examples():
        for name, transform in TRANSFORMS.items():
            varied = transform(example)
            if varied != example:
                params.append(
                    pytest.param(
                        entry_id, varied, source, id=f"{entry_id}-p{p_index}e{e_index}-{name}"
                    )
                )
    return params


VARIANTS = _variants()


def test_variants_are_plentiful() -> None:
    assert len(VARIANTS) >= 60


@pytest.mark.parametrize(("expected", "text", "source"), VARIANTS)
def test_varied_example_lands_on_the_same_entry(
    expected: str, text: str, source: SignalSource
) -> None:
    entry_id, ties, _ = winner(text, source)
    assert entry_id == expected, text
    assert ties == [], text
    pasted_id, pasted_ties, _ = winner(text, source, pasted=True)
    assert pasted_id == expected and pasted_ties == [], text


def _truncations() -> list[pytest.param]:
    """Console truncation: cut the tail after the part the pattern needs, with and without '...'."""
    params = []
    for entry_id, p_index, e_index, example, source in _examples():
        pattern = kb().by_id[entry_id].patterns[p_index]
        hit = pattern.regex.search(example)
        assert hit is not None
        tail = len(example) - hit.end()
        if tail < 12:
            continue
        for keep, suffix in ((hit.end() + tail // 2, "..."), (hit.end() + 3, "")):
            cut = example[:keep] + suffix
            params.append(
                pytest.param(entry_id, cut, source, id=f"{entry_id}-p{p_index}e{e_index}-{keep}")
            )
    return params


TRUNCATIONS = _truncations()


def test_truncations_are_plentiful() -> None:
    assert len(TRUNCATIONS) >= 10


@pytest.mark.parametrize(("expected", "text", "source"), TRUNCATIONS)
def test_truncated_example_lands_on_the_same_entry(
    expected: str, text: str, source: SignalSource
) -> None:
    entry_id, ties, _ = winner(text, source)
    assert (entry_id, ties) == (expected, []), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the seed pull timeout, cut by the console at several places inside the failure tail
        (SEED_PULL[: SEED_PULL.index("i/o timeout") + len("i/o")], "image_pull.network_timeout"),
        (
            SEED_PULL[: SEED_PULL.index(": i/o timeout")] + ": i/o ti...",
            "image_pull.network_timeout",
        ),
        (
            SEED_PULL.replace("ap-northeast-1", "us-west-2").replace(
                "111122223333", "999988887777"
            ),
            "image_pull.network_timeout",
        ),
        (SEED_PULL.replace("10.0.248.239", "172.31.5.17"), "image_pull.network_timeout"),
        # the seed auth timeout, truncated after the endpoint URL
        (
            SEED_AUTH[: SEED_AUTH.index("dial tcp")] + "...",
            "resource_init.registry_auth_unreachable",
        ),
        (SEED_AUTH[: SEED_AUTH.index(". Please")], "resource_init.registry_auth_unreachable"),
        (
            SEED_AUTH.replace("ap-northeast-1", "eu-west-1").replace("3.112.64.17", "52.95.1.1"),
            "resource_init.registry_auth_unreachable",
        ),
    ],
)
def test_seed_variants(text: str, expected: str) -> None:
    entry_id, ties, _ = winner(text)
    assert (entry_id, ties) == (expected, [])


@pytest.mark.parametrize(
    ("host", "repo"),
    [
        ("registry-1.docker.io", "library/nginx"),
        ("ghcr.io", "acme/web"),
        ("quay.io", "prometheus/node-exporter"),
        ("public.ecr.aws", "nginx/nginx"),
        ("444455556666.dkr.ecr.eu-west-3.amazonaws.com", "team/service-one"),
    ],
)
def test_seed_pull_on_other_registries_captures_them(host: str, repo: str) -> None:
    text = (
        f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
        f"resolve ref {host}/{repo}:1.2.3: failed to do request: Head "
        f'"https://{host}/v2/{repo}/manifests/1.2.3": dial tcp 10.1.2.3:443: i/o timeout'
    )
    entry_id, ties, captures = winner(text)
    assert (entry_id, ties) == ("image_pull.network_timeout", [])
    assert captures["registry"] == host
    assert captures["repository"] == repo
    assert captures["ip"] == "10.1.2.3"
