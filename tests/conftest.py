"""Shared test setup: fake credentials, no real AWS, moto's ECS task state pinned.

Every test runs with fake credentials and without AWS_PROFILE / AWS_ENDPOINT_URL, and a guard
fails any request that would leave the machine for a real `amazonaws.com` host.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

for _name in list(os.environ):
    if _name.startswith("AWS_ENDPOINT_URL") or _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        del os.environ[_name]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # The knowledge index cache of a test run stays out of the user's ~/.cache.
        "ECSDOCTOR_CACHE_DIR": os.path.join(
            tempfile.gettempdir(), f"ecsdoctor-tests-{os.getpid()}"
        ),
    }
)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if a request reaches a real AWS endpoint (moto intercepts before this)."""
    from botocore.httpsession import URLLib3Session

    real_send = URLLib3Session.send

    def guarded(self: URLLib3Session, request: object) -> object:
        url = str(getattr(request, "url", ""))
        if "amazonaws.com" in url:
            raise AssertionError(f"test tried to reach real AWS: {url}")
        return real_send(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(URLLib3Session, "send", guarded)
    yield


@pytest.fixture(scope="session", autouse=True)
def _pin_moto_task_state() -> None:
    """moto moves a task one lifecycle state per describe_tasks; pin it so reads are stable."""
    try:
        from moto.moto_api import state_manager
    except ImportError:  # pragma: no cover - moto is a dev dependency
        return
    state_manager.set_transition(
        model_name="ecs::task", transition={"progression": "manual", "times": 10**9}
    )


class Recorder:
    """Every operation a session's clients attempt, recorded before the request is built."""

    def __init__(self, session: object) -> None:
        self.calls: list[str] = []
        session.events.register("provide-client-params.*.*", self._seen)  # type: ignore[attr-defined]

    def _seen(self, model: object, **_: object) -> None:
        from ecsdoctor.aws.operations import IAM_PREFIX

        service = model.service_model.service_name  # type: ignore[attr-defined]
        self.calls.append(f"{IAM_PREFIX.get(service, service)}:{model.name}")  # type: ignore[attr-defined]


@pytest.fixture
def recorder() -> type[Recorder]:
    """The Recorder class: `recorder(session).calls` lists every operation the session tried."""
    return Recorder
