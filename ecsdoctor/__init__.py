"""ecsdoctor: why an Amazon ECS task will not start or a service keeps failing, with proof.

The library is the product; the CLI, the ChatOps backend and the report writer call it:

    from ecsdoctor import diagnose_events, diagnose_service, diagnose_task, render, Format
    print(render(Format.TEXT, diagnose_events("stopped-task.json")))
    print(render(Format.SLACK, diagnose_service("web", cluster="prod")))

The live entry points (which need boto3) load on first use, so `import ecsdoctor` and the offline
commands stay fast and work without AWS libraries being imported.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from ecsdoctor.errors import AwsSetupError, EcsDoctorError, InputError, KnowledgeError
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

if TYPE_CHECKING:
    from ecsdoctor.aws.protocol import Reader
    from ecsdoctor.diagnose import diagnose_task
    from ecsdoctor.events import diagnose_event
    from ecsdoctor.scan import diagnose_service, scan_cluster

try:
    __version__ = version("ecsdoctor")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

#: Public names served by a module that imports boto3: loaded on first access.
_LIVE = {
    "diagnose_task": "ecsdoctor.diagnose",
    "diagnose_event": "ecsdoctor.events",
    "diagnose_service": "ecsdoctor.scan",
    "scan_cluster": "ecsdoctor.scan",
    "Reader": "ecsdoctor.aws.protocol",
}


def __getattr__(name: str) -> object:
    module = _LIVE.get(name)
    if module is None:
        raise AttributeError(f"module 'ecsdoctor' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


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
