"""ecsdoctor: why an Amazon ECS task will not start or a service keeps failing, with proof.

The library is the product; the CLI, the ChatOps backend and the report writer call it:

    from ecsdoctor import diagnose_events, diagnose_service, diagnose_task, render, Format
    print(render(Format.TEXT, diagnose_events("stopped-task.json")))
    print(render(Format.SLACK, diagnose_service("web", cluster="prod")))
"""

from ecsdoctor.diagnose import diagnose_document, diagnose_events, diagnose_task, load_knowledge
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
)
from ecsdoctor.report import Format, render
from ecsdoctor.scan import diagnose_service, scan_cluster

__version__ = "0.1.0"

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
    "Signal",
    "SignalSource",
    "Status",
    "Subject",
    "__version__",
    "diagnose_document",
    "diagnose_events",
    "diagnose_service",
    "diagnose_task",
    "explain_signals",
    "load_knowledge",
    "render",
    "scan_cluster",
]
