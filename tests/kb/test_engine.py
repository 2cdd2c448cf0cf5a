"""The matching engine: the anchor prefilter hides no match, cut messages never name the wrong
family, streaming keeps memory flat, and the work per unrecognised line is bounded."""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecsdoctor.errors import InputError
from ecsdoctor.explain import Explainer, explanation_doc, explanation_text, iter_explanations
from ecsdoctor.ingest import plain_signal
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.kb.anchors import anchors_of
from ecsdoctor.kb.coverage import generic_share, load_coverage
from ecsdoctor.kb.matcher import Candidate, is_generic
from ecsdoctor.models import Signal, SignalSource

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_events"


def _brute_force(kb: KnowledgeBase, signal: Signal) -> list[str]:
    """Every entry whose pattern matches, trying every pattern in turn (no prefilter)."""
    hits = set()
    for entry in kb.entries:
        for pattern in entry.patterns:
            applies = signal.pasted or signal.source in pattern.sources
            if applies and pattern.regex.search(signal.text, timeout=1.0) is not None:
                hits.add(entry.id)
    return sorted(hits)


def _messages(kb: KnowledgeBase) -> Iterator[str]:
    for entry in kb.entries:
        for pattern in entry.patterns:
            yield from pattern.examples
    for path in sorted(SAMPLES.rglob("*.txt")):
        yield from (line for line in path.read_text(encoding="utf-8").splitlines() if line)
    for holdout in sorted(Path(__file__).parent.glob("holdout*.txt")):
        for line in holdout.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                yield line.split("\t", 1)[1]


# --------------------------------------------------------------------------- prefilter


def test_the_prefilter_never_hides_a_match(kb: KnowledgeBase) -> None:
    """Same entries as trying every pattern, on every example, sample and held-out message,
    and on each of them cut in half (where anchors go missing)."""
    checked = 0
    for message in _messages(kb):
        for text in (message, message[: len(message) // 2]):
            for source in (SignalSource.STOPPED_REASON, SignalSource.SERVICE_EVENT):
                signal = Signal(source=source, text=text)
                got = sorted(c.entry.id for c in kb.candidates(signal))
                assert got == _brute_force(kb, signal), text
                checked += 1
    assert checked > 1500


def test_most_patterns_have_an_anchor(kb: KnowledgeBase) -> None:
    anchored = [
        anchors_of(p.regex.pattern, p.regex.flags).best is not None
        for e in kb.entries
        for p in e.patterns
    ]
    assert sum(anchored) >= 0.95 * len(anchored)


@pytest.mark.parametrize(
    ("pattern", "matching"),
    [
        (
            r"CannotPull(?:ECR)?ContainerError: (?P<x>\w+) i/o timeout",
            "CannotPullContainerError: a i/o timeout",
        ),
        (r"\A\s*137\s*\Z", " 137 "),
        (r"(?:foo|bar) baz\b", "BAR BAZ"),
        (r"unable to (?:pull|fetch) secrets? from asm", "Unable to fetch secret from ASM"),
        (r"x{2,}yz[ :]+done", "xxxyz : done"),
    ],
)
def test_anchors_are_present_in_whatever_the_pattern_matches(pattern: str, matching: str) -> None:
    anchors = anchors_of(pattern, re.IGNORECASE)
    folded = matching.casefold()
    words = set(re.findall(r"\w+", folded))
    assert re.search(pattern, matching, re.IGNORECASE)
    assert all(r.satisfied(words, folded) for r in anchors.ordered)


# --------------------------------------------------------------------------- truncation


def _cuts(kb: KnowledgeBase) -> Iterator[tuple[str, str, str]]:
    for entry in kb.entries:
        for pattern in entry.patterns:
            for example in pattern.examples:
                for hit in re.finditer(r"\s", example):
                    yield entry.id, example, example[: hit.start()] + "..."


def test_a_cut_message_never_names_another_specific_family(kb: KnowledgeBase) -> None:
    """Cut at every word: the same entry, a catch-all or nothing — a narrower wrong family would
    send the on-call engineer after the wrong cause. Matches made on a cut are low confidence."""
    partial_same = 0
    for expected, _, cut in _cuts(kb):
        found = kb.recognize(Signal(source=SignalSource.STOPPED_REASON, text=cut))
        if found is None or not found.partial:
            continue
        assert found.entry.id == expected, cut
        assert found.confidence == "low"
        partial_same += 1
    assert partial_same >= 10


def test_a_cut_inside_the_distinctive_tail_still_lands_on_the_family(kb: KnowledgeBase) -> None:
    seed = (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
        "ref 111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/myrepo:v1: failed to do request: Head "
        '"https://111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/v2/myrepo/manifests/v1": '
        "dial tcp 10.0.248.239:443: i/o timeout"
    )
    for cut in (seed[: seed.index("i/o") + 5], seed[: seed.index("timeout") + 3] + "…"):
        found = kb.recognize(Signal(source=SignalSource.STOPPED_REASON, text=cut))
        assert found is not None and found.entry.id == "image_pull.network_timeout", cut


def test_a_cut_after_a_scene_setting_alternative_names_no_narrower_family(
    kb: KnowledgeBase,
) -> None:
    """`failed to extract layer` precedes `no space left on device` (Fargate storage full) but also
    `context canceled`: a cut after it alone is still only a pull failure (github.com/aws/
    containers-roadmap/issues/1133)."""
    cut = (
        'CannotPullContainerError: containerd: pull command failed: time="2020-XX-XXTXX:XX:XXZ" '
        'level=info msg="apply failure, attempting cleanup" error="failed to extract layer '
        "sha256:XXXXXXXX: context ca..."
    )
    found = kb.recognize(plain_signal(cut))
    assert found is not None and found.entry.id == "image_pull.generic"


def test_a_cut_anywhere_after_the_distinctive_prefix_names_the_family(
    kb: KnowledgeBase,
) -> None:
    text = (
        "docker: Error response from daemon: driver failed programming external connectivity on "
        "endpoint serene_lalande (08bb0bd9684c0f92db7b736986bf894d3a57a714324405823496d13e175e7491): "
        "Error starting userland proxy: Bind for 0.0.0.0:49161 failed: port is already allocated."
    )
    entry = "container_start.host_port_conflict"
    end = kb.distinctive_end(entry, text)
    assert end is not None and end < text.index("Bind for")
    cut_in_literal = text[: text.index("already") + 3] + "…"
    for cut in (text[:end], text[: end + 20] + "...", cut_in_literal):
        found = kb.recognize(plain_signal(cut))
        assert found is not None and found.entry.id == entry, cut
    # the endpoint wording is complete in the cut text: a full match of the same entry
    found = kb.recognize(plain_signal(cut_in_literal))
    assert found is not None and found.captures == {"endpoint": "serene_lalande"}


def test_a_cut_in_the_last_literal_keeps_the_captures_before_it(kb: KnowledgeBase) -> None:
    text = "The container frontend-api did not have a container port 8080 defi..."
    found = kb.recognize(plain_signal(text))
    assert found is not None and found.entry.id == "service_api.container_port_not_defined"
    assert (found.partial, found.confidence) == (True, "low")
    assert found.captures == {"container": "frontend-api", "port": "8080"}


def test_a_capture_cut_by_an_ellipsis_is_dropped_and_lowers_confidence(kb: KnowledgeBase) -> None:
    text = "creating ECS Service (web): NamespaceNotFoundException: Failed to retrieve namespace for prod-inter..."
    found = kb.recognize(plain_signal(text))
    assert found is not None and found.entry.id == "service_connect.namespace_not_found"
    assert found.confidence == "low" and found.cut == ("namespace",)
    assert "namespace" not in found.captures


def _sample_signals() -> Iterator[Signal]:
    from ecsdoctor.ingest import decode, parse_document

    seen: set[tuple[str, SignalSource]] = set()
    for path in sorted(SAMPLES.rglob("*")):
        if path.suffix in (".txt", ".json", ".jsonl"):
            document = parse_document(decode(path.read_bytes(), str(path)), str(path))
            for signal in document.signals:
                if (signal.text, signal.source) not in seen:
                    seen.add((signal.text, signal.source))
                    yield signal


def test_every_sample_cut_after_its_distinctive_prefix_lands_on_its_family(
    kb: KnowledgeBase,
) -> None:
    """Consoles and chat clients cut messages anywhere: every sample with a specific entry, cut
    at four points after its distinctive prefix (with and without an ellipsis), lands on the
    same entry, with low confidence when the cut fell inside the match."""
    checked = 0
    for signal in _sample_signals():
        whole = kb.recognize(signal)
        if whole is None or is_generic(whole.entry):
            continue
        text, entry = whole.text, whole.entry.id
        start = kb.distinctive_end(entry, text)
        if start is None or start >= len(text):
            continue
        n = len(text)
        for at in sorted({start, start + (n - start) // 3, start + 2 * (n - start) // 3, n - 1}):
            for cut in (text[:at], text[:at] + "...", text[:at] + "…"):
                found = kb.recognize(Signal(source=signal.source, text=cut, pasted=signal.pasted))
                assert found is not None and found.entry.id == entry, (entry, cut)
                if found.partial:
                    assert found.confidence == "low"
                checked += 1
    assert checked > 1500


# --------------------------------------------------------------------------- variants


def _task_set_variants(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """Service events of the form `(service X) ...` rewritten as `(service X, taskSet Y) ...`."""
    out = []
    for entry in kb.entries:
        for pattern in entry.patterns:
            for example in pattern.examples:
                varied = re.sub(
                    r"^\(service ([^\s,()]+)\)",
                    r"(service \1, taskSet ecs-svc/1234567890123456789)",
                    example,
                )
                if varied != example:
                    out.append((entry.id, varied))
    return out


def test_task_set_forms_of_service_events_land_on_the_same_entry(kb: KnowledgeBase) -> None:
    variants = _task_set_variants(kb)
    assert len(variants) >= 10
    for expected, text in variants:
        found = kb.recognize(Signal(source=SignalSource.SERVICE_EVENT, text=text))
        assert found is not None and found.entry.id == expected, text


# --------------------------------------------------------------------------- wrappers


WRAPPED = [
    (
        'Resource handler returned message: "Invalid request provided: CreateService error: '
        "Specifying both a launch type and capacity provider strategy is not supported. Remove one "
        "and try again. (Service: AmazonECS; Status Code: 400; Error Code: InvalidParameterException; "
        'Request ID: 0e91c90c-0a97-4ee0-a90f-16697195accb; Proxy: null)" (RequestToken: '
        "da7667e2-f6da-b722-cb3b-96f9f0cf5b31, HandlerErrorCode: InvalidRequest)",
        "cloudformation",
        "service_api.launch_type_with_capacity_provider",
    ),
    (
        "Error: creating ECS Service (web): InvalidParameterException: The container web did not "
        "have a container port 8080 defined.",
        "terraform",
        "service_api.container_port_not_defined",
    ),
    (
        "Error: creating ECS Task Definition (api): operation error ECS: RegisterTaskDefinition, "
        "https response error StatusCode: 400, RequestID: 5f0c1d2e-aaaa-bbbb-cccc-111122223333, "
        "ClientException: No Fargate configuration exists for given values: 512 CPU, 512 memory.",
        "terraform",
        "task_definition.fargate_cpu_memory_invalid",
    ),
    (
        "An error occurred (InvalidParameterException) when calling the CreateService operation: "
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        "aws-cli",
        "service_api.network_configuration_required",
    ),
    (
        "12:00:01 PM | CREATE_FAILED | AWS::ECS::Service | Service Resource handler returned message: "
        '"Invalid request provided: CreateService error: The container app does not exist in the task '
        'definition." (RequestToken: 1, HandlerErrorCode: InvalidRequest)',
        "cdk",
        "service_api.container_not_in_task_definition",
    ),
    (
        "- An ECS service to run and maintain your tasks in the environment cluster [create failed] "
        'Resource handler returned message: "Invalid request provided: CreateService error: Creation of '
        'service was not idempotent." (RequestToken: 2, HandlerErrorCode: InvalidRequest)',
        "copilot",
        "service_api.not_idempotent",
    ),
]


@pytest.mark.parametrize(("text", "wrapper", "entry"), WRAPPED)
def test_wrapped_errors_are_unwrapped_and_the_tool_is_named(
    text: str, wrapper: str, entry: str, kb: KnowledgeBase
) -> None:
    found = kb.recognize(plain_signal(text))
    assert found is not None and found.entry.id == entry
    assert found.wrapper == wrapper
    assert not found.text.startswith(("Resource handler", "Error:", "An error occurred"))
    match = kb.match(plain_signal(text))
    assert match is not None and match.wrapper == wrapper


def test_explain_json_and_text_show_the_wrapper(kb: KnowledgeBase) -> None:
    text, wrapper, entry = WRAPPED[1]
    (explanation,) = list(iter_explanations([text], kb))
    doc = explanation_doc(explanation)
    assert (doc["entry"], doc["wrapper"], doc["confidence"]) == (entry, wrapper, "high")
    assert {"message", "entry", "title", "severity", "captures", "kinds", "hypotheses"} <= set(doc)
    assert f"reported through: {wrapper}" in explanation_text(explanation)


def test_an_unwrapped_message_names_no_wrapper(kb: KnowledgeBase) -> None:
    found = kb.recognize(
        plain_signal("CgroupError: Agent could not create task's platform resources")
    )
    assert found is not None and found.wrapper is None


# --------------------------------------------------------------------------- streaming and budget


def test_iter_explanations_is_lazy_and_in_order(kb: KnowledgeBase) -> None:
    lines = iter(
        [
            "",
            "137",
            "no such family here at all",
            "CgroupError: Agent could not create task's platform resources",
        ]
    )
    stream = iter_explanations(lines, kb)
    first = next(stream)
    assert first.entry == "container_exit.exit_code_137"
    rest = list(stream)
    assert [e.entry for e in rest] == [None, "container_runtime.cgroup_error"]


def test_iter_explanations_rejects_an_oversized_line_with_its_number(kb: KnowledgeBase) -> None:
    with pytest.raises(InputError, match="line 2"):
        list(iter_explanations(["137", "x" * 20_000], kb))


def _stream(count: int) -> Iterator[str]:
    for i in range(count):
        yield f"(service web) has started 1 tasks: (task {i:032x})."


def test_streaming_memory_stays_flat(kb: KnowledgeBase) -> None:
    tracemalloc.start()
    for _ in iter_explanations(_stream(2_000), kb):
        pass
    _, small = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    for _ in iter_explanations(_stream(20_000), kb):
        pass
    _, large = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert large < small + 8 * 1024 * 1024, (small, large)


def test_unrecognised_lines_cost_little(kb: KnowledgeBase) -> None:
    """The 'closest family' hint is a word-index lookup: 2,000 distinct unrecognised lines
    (once two minutes for 1,000) take well under the budget even on a loaded machine."""
    lines = [
        f"worker {i} finished batch {i * 7} in {i % 13} seconds without incident"
        for i in range(2_000)
    ]
    start = time.process_time()
    results = list(iter_explanations(lines, kb))
    assert time.process_time() - start < 10
    assert all(e.entry is None for e in results)


def test_long_hostile_lines_are_bounded(kb: KnowledgeBase) -> None:
    hostile = "CannotPullContainerError: " * 600 + "x"
    start = time.process_time()
    results = list(iter_explanations([hostile + str(i) for i in range(20)], kb))
    assert time.process_time() - start < 10
    assert all(e.entry is not None for e in results)


def test_closest_names_a_related_family(kb: KnowledgeBase) -> None:
    hint = Explainer(kb).closest(
        "CannotPullContainerError: something entirely new about the registry"
    )
    assert hint and hint[0].startswith("image_pull.")


# --------------------------------------------------------------------------- catch-all share


def test_generic_share_counts_catch_all_landings(kb: KnowledgeBase) -> None:
    share = generic_share(kb, SAMPLES)
    assert share.recognised > 300
    assert 0 < share.generic < share.recognised / 6
    assert all(entry.endswith(".generic") for entry, _ in share.by_entry)
    assert is_generic(kb.by_id["image_pull.generic"]) and not is_generic(
        kb.by_id["image_pull.rate_limited"]
    )


def test_kb_stats_text_publishes_the_catch_all_share() -> None:
    from ecsdoctor.kb.coverage import coverage_markdown, coverage_text

    coverage = load_coverage(ROOT / "knowledge")
    text = coverage_text(coverage, SAMPLES)
    assert "recognised sample messages" in text and "land on a catch-all entry" in text
    assert "recognised held-out real messages" in text
    assert "Specific before generic:" in coverage_markdown(coverage, SAMPLES)


def test_the_holdout_share_counts_every_held_out_line(kb: KnowledgeBase) -> None:
    from ecsdoctor.kb.coverage import holdout_files, holdout_share

    files = holdout_files(ROOT / "knowledge")
    assert files and all(f.name.startswith("holdout") for f in files)
    lines = [
        line
        for f in files
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    share = holdout_share(kb, files)
    assert share.recognised + share.unrecognised == len(lines)
    assert share.generic * 6 < share.recognised


def test_candidate_type_is_unchanged(kb: KnowledgeBase) -> None:
    """lint and the corpus tests rely on candidates() returning full matches, best first."""
    found = kb.candidates(
        Signal(source=SignalSource.STOPPED_REASON, text="CannotPullContainerError: API error (404)")
    )
    assert found and isinstance(found[0], Candidate) and not found[0].partial


def test_terraform_framing_lines_are_decoration_and_the_error_line_is_not() -> None:
    from ecsdoctor.kb.unwrap import decoration

    pasted = [
        "╷",
        "│ Error: creating ECS Service (ecsdemo-frontend): NamespaceNotFoundException: Failed to "
        "retrieve namespace for example",
        "│ ",
        '│   with module.ecs.module.service["ecsdemo-frontend"].aws_ecs_service.this[0],',
        '│   on .terraform/modules/ecs/modules/service/main.tf line 30, in resource "aws_ecs_service" "this":',
        '│   30: resource "aws_ecs_service" "this" {',
        "╵",
    ]
    assert [decoration(line) for line in pasted] == [True, False, True, True, True, True, True]
