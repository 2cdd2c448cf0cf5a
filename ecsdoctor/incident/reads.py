"""What `ecsdoctor report` reads beyond a diagnosis: declared once, for the IAM policy.

`ecsdoctor.permissions.required_actions` unions this with the checks' `reads=`, so the printed
policy grants exactly what the report can send (a test parses every reader call to prove it).
"""

from __future__ import annotations

#: logs:FilterLogEvents reads the archived ECS events of `--log-group`; cloudtrail:LookupEvents
#: finds configuration changes of the root-cause resources for the timeline.
REPORT_READS: tuple[str, ...] = ("logs:FilterLogEvents", "cloudtrail:LookupEvents")

__all__ = ["REPORT_READS"]
