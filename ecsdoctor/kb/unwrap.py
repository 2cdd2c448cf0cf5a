"""Find the ECS message inside the error text of the tool that called ECS, and name that tool.

On-call engineers paste what their deployment tool printed: CloudFormation's `Resource handler
returned message: "..."`, CDK's and Copilot's renderings of it, Terraform's `Error: creating ECS
Service (...): InvalidParameterException: ...`, or the AWS CLI's `An error occurred (...) when
calling the CreateService operation: ...`. The wrapper says who called ECS, not what failed: it is
reported next to the family, and the family is matched on the unwrapped message.

Pasted blocks span lines: Terraform frames its error in a box (`│ Error: ...`, `│   with ...`) and
the AWS SDK for Go v1 adds a `\tstatus code: 400, request id: ...` line; Copilot hard-wraps its
CloudFormation events at 70 characters, mid-word. `paste_messages` puts each block back on one line
so the wrapper and the ECS message inside it are read as one message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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
        "terraform",
        regex.compile(
            r"\b(?:failed|error) (?:creating|updating|deleting|reading|registering|deregistering)"
            r" (?:Amazon )?ECS [^:]*?(?:\([^)]*\))?: (?P<inner>\w+(?:Exception|Error): .+)",
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
        "cloudformation",
        regex.compile(r"of type AWS::[\w:]+ failed with message: (?P<inner>.+)", _FLAGS),
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
        "pulumi",
        regex.compile(
            r"\baws:ecs(?:/\w+)?:\w+\b|urn:pulumi:|\bpulumi\b|sdk-v2/provider2\.go", _FLAGS
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
    "failed with message",
    "failed creating ecs",
    "failed updating ecs",
    "error creating ecs",
    "error updating ecs",
    "aws:ecs",
    "pulumi",
)


_LEADING_ERROR = regex.compile(r"[│|*\s]*error: ")


def _maybe_wrapped(folded: str) -> bool:
    if any(marker in folded for marker in _MARKERS):
        return True
    return _LEADING_ERROR.match(folded) is not None


def unwrap(text: str) -> tuple[str, str | None]:
    """(the ECS message, the tool that wrapped it or None); unwrapped text is returned as is.

    A multi-line paste (a Terraform box, a Copilot event wrapped at 70 columns) is first put
    back on one line per message: the message returned is then that rejoined text.
    """
    if "\n" in text:
        text = "\n".join(paste_messages(text.splitlines()))
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
        elif wrapper == "aws-cli":
            if hit.group("code") not in inner.split(":", 1)[0]:
                inner = f"{hit.group('code')}: {inner}"
            wrapper = "boto3" if "botocore" in folded else wrapper
        elif wrapper == "aws-sdk":
            wrapper = "terraform" if "error: " in folded else wrapper
        if wrapper in ("terraform", "aws-sdk"):
            # Pulumi's AWS provider is Terraform's, bridged: same error text, other tool
            wrapper = "pulumi" if _PULUMI.search(text, timeout=0.25) else wrapper
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


_PULUMI = next(pattern for name, pattern in _PRINTED_BY if name == "pulumi")


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
#: The AWS SDK for Go v1's second line of every error (kept when joined to its error line).
_SDK_STATUS = regex.compile(r"^[│|\s]*status code: \d+, request id: [\w-]*\s*$")


def decoration(line: str) -> bool:
    """Whether a pasted line is only a deployment tool's framing around the error (skip it)."""
    stripped = line.strip()
    if (
        stripped
        and stripped[0] not in "│╷╵|"
        and not stripped[0].isdigit()
        and not stripped.startswith(("with ", "on ", "status code: "))
    ):
        return False  # most lines: a message, decided without a pattern
    return _DECORATION.match(stripped) is not None or _SDK_STATUS.match(stripped) is not None


#: Copilot's hard wrap: CloudFormation event reasons are cut every 70 characters, mid-word.
COPILOT_WIDTH = 70
#: A joined block longer than this is passed on and a new one started (memory stays flat).
_BLOCK_LIMIT = 4096
#: A line that opens an error block: the lines after it at the same indentation continue it.
_ERROR_HEAD = regex.compile(
    r"\bError:|\berror:|Exception:|operation error |Resource handler returned message|"
    r"An error occurred \(|\[(?:create|update|delete)[\w ]* failed\]",
)
#: A line that starts a message of its own, never the continuation of the one before.
_MESSAGE_START = regex.compile(
    r"^(?:[-*•✘✔❌]\s*)?(?:Error:|error:|Warning:|Resource handler returned message|"
    r"An error occurred|\(?[Ss]ervice |\w+(?:Error|Exception)\b|Task failed|Essential container|"
    r"\d{1,2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}|[A-Za-z][\w-]* \| )"
)
#: Copilot's progress lines (`- An ECS service ... [create complete] [12.3s]`, `✔ Proposing ...`):
#: alone they say nothing; above an indented error they name the tool and the resource.
_PROGRESS = regex.compile(
    r"^(?:[-✔]\s.*\[(?:[\w ]*complete|not started|[\w ]*in progress)\](?:\s+\[[\d.]+s\])?|✔ .*)$"
)
#: A Python traceback's header: the indented frames under it are framing, not messages.
_TRACEBACK = regex.compile(r"^Traceback \(most recent call last\):$")
_INDENT_TAB = 8


def _progress(text: str) -> bool:
    return text[:1] in ("-", "✔") and _PROGRESS.match(text) is not None


def _error_head(text: str) -> bool:
    folded = text.casefold()
    return (
        "rror" in folded
        or "exception" in folded
        or "resource handler" in folded
        or "failed]" in folded
    ) and (_ERROR_HEAD.search(text) is not None)


def _indent(body: str) -> int:
    width = 0
    for char in body:
        if char == " ":
            width += 1
        elif char == "\t":
            width += _INDENT_TAB
        else:
            break
    return width


def _body(line: str) -> str:
    """The line without Terraform's left rule (`│ `) and trailing padding."""
    line = line.rstrip()
    if line.startswith("│"):
        line = line[2:] if line[1:2] == " " else line[1:]
    return line


class _Block:
    """One message being rejoined from its lines."""

    def __init__(self, body: str) -> None:
        self.indent = _indent(body)
        self.error = _error_head(body)
        self.pieces = [body.strip()]
        self.size = len(self.pieces[0])
        self.progress = _progress(self.pieces[0])
        self.hard_wrapped = self.progress or "resource handler returned message" in body.casefold()
        self.silent = self.pieces[0].startswith("Traceback") and (
            _TRACEBACK.match(self.pieces[0]) is not None  # its frames are dropped
        )

    def continues(self, body: str) -> bool:
        indent = _indent(body)
        if self.size + len(body) > _BLOCK_LIMIT or _progress(body.strip()):
            return False
        if indent > self.indent:
            return True
        return self.error and indent == self.indent and _MESSAGE_START.match(body.lstrip()) is None

    def add(self, body: str) -> None:
        piece = body.strip()
        glue = (
            self.hard_wrapped
            and len(self.pieces[-1]) == COPILOT_WIDTH
            and (len(self.pieces) > 1 or not self.progress)
        )
        if not glue:
            self.pieces.append(" ")
        self.pieces.append(piece)
        self.size += len(piece) + 1
        self.error = self.error or _error_head(piece)
        self.hard_wrapped = (
            self.hard_wrapped or "resource handler returned message" in piece.casefold()
        )

    def text(self) -> str | None:
        if self.silent or (len(self.pieces) == 1 and self.progress):
            return None  # a traceback's frames, or a progress line with nothing under it
        return "".join(self.pieces)


def paste_messages(lines: Iterable[str]) -> Iterator[str]:
    """The messages of a pasted block, one per item: framing dropped, wrapped lines rejoined.

    Lazy and bounded: each message is yielded when the next one starts, so a long log streams.
    """
    block: _Block | None = None
    for line in lines:
        body = _body(line)
        if decoration(line) and not (block is not None and _SDK_STATUS.match(line.strip())):
            if block is not None and (text := block.text()) is not None:
                yield text
            block = None
            continue
        if block is not None and block.continues(body):
            block.add(body)
            continue
        if block is not None and (text := block.text()) is not None:
            yield text
        block = _Block(body)
    if block is not None and (text := block.text()) is not None:
        yield text


__all__ = ["decoration", "paste_messages", "unwrap"]
