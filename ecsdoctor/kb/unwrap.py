"""Find the ECS message inside the error text of the tool that called ECS, and name that tool.

On-call engineers paste what their deployment tool printed: CloudFormation's `Resource handler
returned message: "..."`, CDK's and Copilot's renderings of it, Terraform's `Error: creating ECS
Service (...): InvalidParameterException: ...`, or the AWS CLI's `An error occurred (...) when
calling the CreateService operation: ...`. The wrapper says who called ECS, not what failed: it is
reported next to the family, and the family is matched on the unwrapped message.
"""

from __future__ import annotations

import regex

_FLAGS = regex.IGNORECASE

#: (wrapper, pattern whose `inner` group holds the ECS message), most specific first.
_INNER: tuple[tuple[str, regex.Pattern[str]], ...] = (
    (
        "cloudformation",
        regex.compile(
            r'Resource handler returned message: ?\\?"(?P<inner>.+?)(?:\\?"\s*\(RequestToken|\\?"?\s*$)',
            _FLAGS,
        ),
    ),
    (
        "aws-sdk",
        regex.compile(
            r"operation error (?P<service>[\w ]+): (?P<operation>\w+), (?:exceeded maximum number of "
            r"attempts, \d+, )?https response error StatusCode: \d+, RequestID: [\w-]*, "
            r"(?:api error )?(?P<inner>\w+(?:Exception|Error|Fault)?: .+)",
            _FLAGS,
        ),
    ),
    (
        "terraform",
        regex.compile(
            r"Error: (?:error )?(?:creating|updating|deleting|reading|registering|deregistering|"
            r"waiting for|describing|running)[^:]*?(?:ECS|Amazon ECS)[^:]*?(?:\([^)]*\))?(?:[^:]*)?: "
            r"(?P<inner>.+)",
            _FLAGS,
        ),
    ),
    (
        "terraform",
        regex.compile(
            r"(?:^|\s)(?:\*\s*)?(?:module\.[\w-]+\.)*aws_ecs_\w+\.[\w-]+(?:\[[^\]]*\])?: (?P<inner>.+)",
            _FLAGS,
        ),
    ),
    (
        "cloudformation",
        regex.compile(
            r"Invalid request provided: (?:\w+ (?:error|Invalid Request): )?(?P<inner>.+)", _FLAGS
        ),
    ),
    (
        "aws-cli",
        regex.compile(
            r"An error occurred \((?P<code>\w+)\) when calling the (?P<operation>\w+) operation"
            r"(?: \(reached max retries: \d+\))?: (?P<inner>.+)",
            _FLAGS,
        ),
    ),
    (
        "terraform",
        regex.compile(r"(?:^|[│|]\s*)Error: (?P<inner>\w+(?:Exception|Error): .+)", _FLAGS),
    ),
)

#: Signs that CloudFormation's message was printed by CDK or Copilot rather than read raw.
_PRINTED_BY: tuple[tuple[str, regex.Pattern[str]], ...] = (
    (
        "cdk",
        regex.compile(
            r"\|\s*(?:CREATE|UPDATE|DELETE|ROLLBACK)_\w*FAILED\s*\|\s*(?:AWS|Custom)::|❌|DeploymentError: "
            r"Resource updates failed",
            _FLAGS,
        ),
    ),
    (
        "copilot",
        regex.compile(
            r"An ECS service to run and maintain your tasks|✘ deploy|copilot[- ](?:cli|svc|job|deploy)",
            _FLAGS,
        ),
    ),
)

#: CloudFormation's older (AWS SDK for Java) rendering, without the resource handler wrapper.
_JAVA_SUFFIX = regex.compile(
    r"\s*\(Service: Amazon ?ECS(?:Client)?; Status Code: \d+; Error Code: (?P<code>\w+); "
    r"Request ID: [\w-]*(?:; Proxy: \w+)?\)?.*$",
    _FLAGS,
)
_JAVA_CLASS = regex.compile(r"^(?:[a-z]\w*\.)+(?P<code>\w+(?:Exception|Error)): ")
_CFN_PREFIX = regex.compile(
    r"^(?:Invalid request provided: )?(?:\w+ (?:error|Invalid Request): )?", _FLAGS
)
#: Literal openings of every wrapper above: a message holding none of them (most messages) is
#: returned as is after a few substring tests, without running any wrapper pattern.
_MARKERS = (
    "resource handler returned",
    "invalid request provided",
    "operation error",
    "an error occurred (",
    "(service: amazon",
    "aws_ecs_",
    "_failed",
    "❌",
    "✘",
    "copilot",
    "an ecs service to run",
)


_LEADING_ERROR = regex.compile(r"[│|*\s]*error: ")


def _maybe_wrapped(folded: str) -> bool:
    if any(marker in folded for marker in _MARKERS):
        return True
    return _LEADING_ERROR.match(folded) is not None


def unwrap(text: str) -> tuple[str, str | None]:
    """(the ECS message, the tool that wrapped it or None); unwrapped text is returned as is."""
    folded = text.casefold()
    if not _maybe_wrapped(folded):
        return text, None
    for wrapper, pattern in _INNER:
        hit = pattern.search(text, timeout=0.25)
        if hit is None:
            continue
        inner = hit.group("inner").replace('\\"', '"').strip()
        if wrapper == "cloudformation":
            inner = _cloudformation_inner(inner)
            wrapper = _printed_by(text) or wrapper
        elif wrapper == "aws-cli" and hit.group("code") not in inner.split(":", 1)[0]:
            inner = f"{hit.group('code')}: {inner}"
        elif wrapper == "aws-sdk":
            wrapper = "terraform" if "error: " in folded else wrapper
        inner = _unwrap_again(inner)
        return inner, wrapper
    if "(service: amazon" in folded:
        inner = _cloudformation_inner(text)
        if inner != text:
            # CloudFormation prefixes its handler errors; other Java SDK callers (Step Functions,
            # Jenkins plugins) print the SDK's rendering alone
            tool = "cloudformation" if "invalid request provided" in folded else "aws-sdk-java"
            return inner, _printed_by(text) or tool
    printer = _printed_by(text)
    if printer is not None:  # a CDK or Copilot event line around an error without the handler text
        return text, printer
    return text, None


def _unwrap_again(inner: str) -> str:
    """Terraform may print the AWS SDK's error inside its own: keep the innermost message."""
    nested, wrapper = unwrap(inner)  # terminates: `inner` is always shorter than its text
    return nested if wrapper is not None else inner


def _cloudformation_inner(inner: str) -> str:
    """Strip the SDK suffix `(Service: AmazonECS; ... Error Code: X ...)`, keep `X: message`."""
    suffix = _JAVA_SUFFIX.search(inner, timeout=0.25)
    code = None
    if suffix is not None:
        code = suffix.group("code")
        inner = inner[: suffix.start()].rstrip()
    inner = _CFN_PREFIX.sub("", inner, count=1).strip()
    inner = _JAVA_CLASS.sub(r"\g<code>: ", inner, count=1)
    if code and not inner.startswith(code):
        inner = f"{code}: {inner}"
    return inner


def _printed_by(text: str) -> str | None:
    for name, pattern in _PRINTED_BY:
        if pattern.search(text, timeout=0.25):
            return name
    return None


#: Lines a deployment tool prints around an error that carry no message of their own: Terraform's
#: box-drawing frame, its `with <resource address>,` and `on <file> line N, in resource ...:`
#: context, and the quoted source lines `NN: resource "aws_ecs_service" "web" {`.
_DECORATION = regex.compile(
    r"^[│╷╵|\s]*(?:$|with [\w-]+(?:\[[^\]]*\])?(?:\.[\w-]+(?:\[[^\]]*\])?)+,$|"
    r"on \S+ line \d+(?:, in \w+ \"[^\"]*\" \"[^\"]*\")?:$|\d+: )"
)


def decoration(line: str) -> bool:
    """Whether a pasted line is only a deployment tool's framing around the error (skip it)."""
    return _DECORATION.match(line.strip()) is not None


__all__ = ["decoration", "unwrap"]
