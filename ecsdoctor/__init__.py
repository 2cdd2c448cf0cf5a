"""ecsdoctor: why an Amazon ECS task will not start or a service keeps failing, with proof.

The library is the product; the CLI, the ChatOps backend and the report writer call it:

    from ecsdoctor import diagnose_events, diagnose_service, diagnose_task, render, Format
    print(render(Format.TEXT, diagnose_events("stopped-task.json")))
    print(render(Format.SLACK, diagnose_service("web", cluster="prod")))

Every public name loads on first use (PEP 562), so `import ecsdoctor` costs almost nothing: the
CLI's `--help` pays for no module it does not show, `explain` for no renderer, and the offline
commands never load the live entry points (which need boto3).
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecsdoctor.aws.protocol import Reader
    from ecsdoctor.diagnose import diagnose_task
    from ecsdoctor.errors import AwsSetupError, EcsDoctorError, InputError, KnowledgeError
    from ecsdoctor.events import diagnose_event
    from ecsdoctor.explain import Explanation, explain_signals
    from ecsdoctor.models import (
        CheckResult,
        DataGap,
        Diagnosis,
        Evidence,
        Finding,
        Match,
        Signal,
        SignalSource,
        Status,
        Subject,
        SubjectType,
    )
    from ecsdoctor.offline import diagnose_document, diagnose_events
    from ecsdoctor.pipeline import load_knowledge
    from ecsdoctor.report import Format, render
    from ecsdoctor.scan import diagnose_service, scan_cluster

    __version__: str

#: Where each public name lives; a module is imported when one of its names is first used.
_HOMES = {
    "AwsSetupError": "ecsdoctor.errors",
    "EcsDoctorError": "ecsdoctor.errors",
    "InputError": "ecsdoctor.errors",
    "KnowledgeError": "ecsdoctor.errors",
    "Explanation": "ecsdoctor.explain",
    "explain_signals": "ecsdoctor.explain",
    "CheckResult": "ecsdoctor.models",
    "DataGap": "ecsdoctor.models",
    "Diagnosis": "ecsdoctor.models",
    "Evidence": "ecsdoctor.models",
    "Finding": "ecsdoctor.models",
    "Match": "ecsdoctor.models",
    "Signal": "ecsdoctor.models",
    "SignalSource": "ecsdoctor.models",
    "Status": "ecsdoctor.models",
    "Subject": "ecsdoctor.models",
    "SubjectType": "ecsdoctor.models",
    "diagnose_document": "ecsdoctor.offline",
    "diagnose_events": "ecsdoctor.offline",
    "load_knowledge": "ecsdoctor.pipeline",
    "Format": "ecsdoctor.report",
    "render": "ecsdoctor.report",
    # served by modules that import boto3
    "diagnose_task": "ecsdoctor.diagnose",
    "diagnose_event": "ecsdoctor.events",
    "diagnose_service": "ecsdoctor.scan",
    "scan_cluster": "ecsdoctor.scan",
    "Reader": "ecsdoctor.aws.protocol",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ecsdoctor-cli")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def __getattr__(name: str) -> object:
    if name == "__version__":
        value: object = _version()
    else:
        module = _HOMES.get(name)
        if module is None:
            raise AttributeError(f"module 'ecsdoctor' has no attribute {name!r}")
        value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "AwsSetupError",
    "CheckResult",
    "DataGap",
    "Diagnosis",
    "EcsDoctorError",
    "Evidence",
    "Explanation",
    "Finding",
    "Format",
    "InputError",
    "KnowledgeError",
    "Match",
    "Reader",
    "Signal",
    "SignalSource",
    "Status",
    "Subject",
    "SubjectType",
    "__version__",
    "diagnose_document",
    "diagnose_event",
    "diagnose_events",
    "diagnose_service",
    "diagnose_task",
    "explain_signals",
    "load_knowledge",
    "render",
    "scan_cluster",
]
