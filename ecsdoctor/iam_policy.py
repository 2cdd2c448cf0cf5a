"""Local IAM policy evaluation: may the role do action A on resource R, and may ECS assume it?

`iam:SimulatePrincipalPolicy` is missing from moto and often not permitted, so ecsdoctor evaluates
the policy documents itself, following AWS's documented evaluation logic:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
(cross-account: .../reference_policies_evaluation-logic-cross-account.html; boundaries:
.../access_policies_boundaries.html; KMS: https://docs.aws.amazon.com/kms/latest/developerguide/
key-policy-default.html#key-policy-default-allow-root-enable-iam).

Every match is three-valued: yes, no, or "cannot tell" (None). Whatever depends on a condition key,
a policy variable or a session name the caller did not supply is "cannot tell" and surfaces as
CONDITIONAL, so something this module does not know can never become a false deny.
SCPs, RCPs and session policies are out of scope: ecsdoctor does not read them.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecsdoctor.aws.protocol import Reader

__all__ = [
    "Attributed",
    "Decision",
    "Evaluation",
    "PolicyDoc",
    "SimulatedDecision",
    "decide",
    "disagreement",
    "ecs_trust_context",
    "ecs_trust_policy",
    "endpoint_policy_allows",
    "evaluate",
    "parse_document",
    "scp_denial",
    "simulate",
    "trust_allows",
]

Tri = bool | None  # True, False, or None for "cannot tell without more context"
_Ctx = Mapping[str, tuple[str, ...]]  # lower-cased condition key -> values; () = known absent


class Decision(StrEnum):
    """The answer for one (action, resource) question."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"
    CONDITIONAL = "conditional"  # depends on a condition or context this module cannot decide


@dataclass(frozen=True, slots=True)
class PolicyDoc:
    """One policy document with the name used to cite it in findings."""

    name: str  # policy ARN, "inline:<role-name>/<policy-name>", or "resource:<arn>"
    document: Mapping[str, Any] | str  # dict, JSON string, or URL-encoded JSON (as IAM returns it)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The decision plus the statements behind it, so a finding can quote its evidence."""

    action: str
    resource: str
    decision: Decision
    deciding: tuple[str, ...]  # "policy-name#Sid-or-index" of the statements that decided
    detail: str  # one sentence for a person, naming the policy and statement


# --- three-valued logic -------------------------------------------------------------------------


def _and(values: Iterable[Tri]) -> Tri:
    """False if any is False, else None if any is unknown: one failing part settles an AND."""
    result: Tri = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def _or(values: Iterable[Tri]) -> Tri:
    """True if any is True, else None if any is unknown."""
    result: Tri = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def _not(value: Tri) -> Tri:
    return None if value is None else not value


# --- documents ------------------------------------------------------------------------------------


def parse_document(document: Mapping[str, Any] | str) -> dict[str, Any]:
    """A policy document as a dict, from a dict, JSON, or URL-encoded JSON (as IAM returns it).

    Raises ValueError when it is not a JSON object with a Statement that is an object or a list:
    evaluating garbage as "no statements" would report a false implicit deny.
    """
    if isinstance(document, str):
        parsed: Any = None
        text = document.strip()
        for candidate in (text, urllib.parse.unquote(text), urllib.parse.unquote_plus(text)):
            try:
                parsed = json.loads(candidate)
                break
            except json.JSONDecodeError:
                continue
        else:
            raise ValueError("policy document is neither JSON nor URL-encoded JSON")
    elif isinstance(document, Mapping):
        parsed = document
    else:
        raise ValueError(f"policy document must be a mapping or a string, not {type(document)}")
    if not isinstance(parsed, Mapping):
        raise ValueError("policy document is not a JSON object")
    statement = parsed.get("Statement")
    if not isinstance(statement, Mapping | list):
        raise ValueError("policy document has no Statement object or list")
    return dict(parsed)


def _statements(doc: Mapping[str, Any]) -> list[tuple[int, str, Mapping[str, Any]]]:
    """(index, Sid or "", statement); non-object entries are ignored (IAM rejects them anyway)."""
    raw = doc["Statement"]
    items = [raw] if isinstance(raw, Mapping) else raw
    out = []
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            sid = item.get("Sid")
            out.append((index, sid if isinstance(sid, str) else "", item))
    return out


def _strings(value: Any) -> list[str] | None:
    """A policy element as strings (scalars become their JSON text); None when malformed."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item))
        else:
            return None
    return out


# --- wildcard matching ----------------------------------------------------------------------------
# A glob is compiled to tokens: literal characters, _ANY for `*`, _ONE for `?`. Matching is the
# two-pointer algorithm (O(len * len), no backtracking blow-up on hostile patterns).

_ANY, _ONE = 0, 1
_Glob = tuple[str | int, ...]
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@lru_cache(maxsize=4096)
def _literal_glob(pattern: str, wildcards: bool) -> _Glob:
    if not wildcards:
        return tuple(pattern)
    return tuple(_ANY if c == "*" else _ONE if c == "?" else c for c in pattern)


def _glob(pattern: str, ctx: _Ctx | None, *, wildcards: bool = True) -> _Glob | None:
    """Compile `pattern`, substituting ${policy:variables} from `ctx`; None when one is unknown.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    """
    if ctx is None or "${" not in pattern:
        return _literal_glob(pattern, wildcards)
    tokens: list[str | int] = []
    pos = 0
    for var in _VARIABLE.finditer(pattern):
        tokens += _literal_glob(pattern[pos : var.start()], wildcards)
        name, _, default = var.group(1).partition(",")
        name = name.strip()
        if name in ("*", "?", "$"):
            value: str | None = name
        else:
            values = ctx.get(name.lower())
            value = values[0] if values is not None and len(values) == 1 else None
            if value is None and default.strip():
                value = default.strip().strip("'")
        if value is None:
            return None
        tokens += tuple(value)
        pos = var.end()
    tokens += _literal_glob(pattern[pos:], wildcards)
    return tuple(tokens)


def _glob_match(glob: _Glob, text: str, *, ignore_case: bool) -> bool:
    """Whether `text` matches the compiled glob as a whole."""
    if ignore_case:
        glob = tuple(t.lower() if isinstance(t, str) else t for t in glob)
        chars: Sequence[str] = [c.lower() for c in text]
    else:
        chars = text
    g = t = 0
    star, mark = -1, 0
    while t < len(chars):
        if g < len(glob) and (glob[g] == _ONE or glob[g] == chars[t]):
            g, t = g + 1, t + 1
        elif g < len(glob) and glob[g] == _ANY:
            star, mark, g = g, t, g + 1
        elif star >= 0:
            g, mark = star + 1, mark + 1
            t = mark
        else:
            return False
    while g < len(glob) and glob[g] == _ANY:
        g += 1
    return g == len(glob)


def _like(pattern: str, text: str, ctx: _Ctx | None, *, ignore_case: bool = False) -> Tri:
    glob = _glob(pattern, ctx)
    return None if glob is None else _glob_match(glob, text, ignore_case=ignore_case)


def _equals(pattern: str, text: str, ctx: _Ctx | None, *, ignore_case: bool = False) -> Tri:
    glob = _glob(pattern, ctx, wildcards=False)
    return None if glob is None else _glob_match(glob, text, ignore_case=ignore_case)


def _arn_like(pattern: str, text: str, ctx: _Ctx | None) -> Tri:
    """ArnLike/ArnEquals: each of the six colon-separated parts is matched on its own."""
    parts, values = pattern.split(":", 5), text.split(":", 5)
    if "${" in pattern or len(parts) != 6 or len(values) != 6:
        return _like(pattern, text, ctx)
    return all(_like(p, v, None) for p, v in zip(parts, values, strict=True))


# --- conditions -----------------------------------------------------------------------------------
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

_Compare = Callable[[str, str, _Ctx], Tri]
_OPERATORS: dict[str, tuple[bool, _Compare]] = {  # lower-cased name -> (negated, compare one value)
    "stringequals": (False, lambda p, v, c: _equals(p, v, c)),
    "stringnotequals": (True, lambda p, v, c: _equals(p, v, c)),
    "stringequalsignorecase": (False, lambda p, v, c: _equals(p, v, c, ignore_case=True)),
    "stringnotequalsignorecase": (True, lambda p, v, c: _equals(p, v, c, ignore_case=True)),
    "stringlike": (False, lambda p, v, c: _like(p, v, c)),
    "stringnotlike": (True, lambda p, v, c: _like(p, v, c)),
    "arnequals": (False, _arn_like),
    "arnlike": (False, _arn_like),
    "arnnotequals": (True, _arn_like),
    "arnnotlike": (True, _arn_like),
    "bool": (False, lambda p, v, c: p.lower() == v.lower()),
}


#: Marks aws:SourceArn in an ECS trust context as "some ECS ARN of this account and Region"
#: (a context key no request carries, so it never collides with a real one).
_ECS_SOURCE = "ecsdoctor:ecs-source-arn"
_WILDCARD_OPERATORS = frozenset(
    ("stringlike", "stringnotlike", "arnlike", "arnnotlike", "arnequals", "arnnotequals")
)


def _ecs_source_arn(pattern: str, scope: str, wildcards: bool) -> Tri:
    """Does an aws:SourceArn condition value admit the ARN ECS sends when it assumes a role?

    AWS documents only the account-and-Region wildcard (`arn:aws:ecs:REGION:ACCOUNT:*`) and
    says scoping to one cluster is not supported; the exact ARN ECS sends is not documented
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html). So a
    value admitting every ECS ARN of the task's account and Region holds, one naming another
    partition, service, Region or account or a single cluster does not, and any other narrower
    value cannot be decided (None, never a false deny). `scope` is `arn:P:ecs:REGION:ACCOUNT:*`.
    """
    prefix = scope[:-1]  # "arn:P:ecs:REGION:ACCOUNT:"
    parts, wanted = pattern.split(":", 5), prefix.split(":", 5)
    if wildcards and pattern.endswith("*") and _like(pattern, prefix, None):
        return True  # the trailing wildcard admits whatever resource part ECS sends
    if len(parts) != 6:
        return None if wildcards else False
    same = all(
        (_like(p, w, None) if wildcards else p == w)
        for p, w in zip(parts[:5], wanted[:5], strict=True)
    )
    if not same:
        return False
    resource = parts[5]
    kind, _, rest = resource.partition("/")
    cluster = rest.split("/", 1)[0]
    if resource == "*" or (
        kind in ("cluster", "task", "service", "container-instance")
        and cluster
        and not (wildcards and any(c in cluster for c in "*?"))
    ):
        return False  # a literal "*", or one cluster: documented as not supported
    return None


def _operator(op: str, key: str, wanted: list[str], ctx: _Ctx) -> Tri:
    """One operator on one key; None when the key or the operator is unknown here."""
    qualifier, name = "", op.lower()
    for prefix in ("foranyvalue:", "forallvalues:"):
        if name.startswith(prefix):
            qualifier, name = prefix, name.removeprefix(prefix)
    have = ctx.get(key.lower())
    if key.lower() == "aws:sourcearn" and _ECS_SOURCE in ctx and have:
        base = name.removesuffix("ifexists")
        if base not in _OPERATORS:
            return None
        negated = _OPERATORS[base][0]
        wildcards = base in _WILDCARD_OPERATORS
        hit = _or(_ecs_source_arn(w, have[0], wildcards) for w in wanted)
        return _not(hit) if negated else hit
    if name == "null":
        if qualifier or have is None:
            return None
        return any((w.lower() == "true") == (not have) for w in wanted)
    if_exists = name.endswith("ifexists")
    negated, compare = _OPERATORS.get(name.removesuffix("ifexists"), (False, None))
    if compare is None or have is None:
        return None
    if not have:  # the key is known to be absent from the request
        return if_exists or qualifier == "forallvalues:" or (negated and not qualifier)

    def satisfies(value: str) -> Tri:
        hit = _or(compare(w, value, ctx) for w in wanted)
        return _not(hit) if negated else hit

    if qualifier == "forallvalues:" or (negated and not qualifier):
        return _and(satisfies(v) for v in have)
    return _or(satisfies(v) for v in have)


def _condition(block: Any, ctx: _Ctx) -> Tri:
    """All operators and all keys must hold (AND); values of one key are alternatives (OR)."""
    if block is None or block == {}:
        return True
    if not isinstance(block, Mapping):
        return None
    results: list[Tri] = []
    for op, keys in block.items():
        if not isinstance(keys, Mapping):
            return None
        for key, value in keys.items():
            wanted = _strings(value)
            results.append(None if wanted is None else _operator(str(op), str(key), wanted, ctx))
    return _and(results)


# --- principals -----------------------------------------------------------------------------------
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html


@dataclass(frozen=True, slots=True)
class _Caller:
    """The principal making the request, split into the parts principal matching compares."""

    arn: str | None
    account: str | None = None
    role: str | None = None  # role name, for role and assumed-role ARNs
    session: str | None = None  # session name, for assumed-role ARNs

    @classmethod
    def parse(cls, arn: str | None) -> _Caller:
        parts = (arn or "").split(":", 5)
        if arn is None or len(parts) != 6:
            return cls(arn)
        service, account, rest = parts[2], parts[4] or None, parts[5]
        if service == "iam" and rest.startswith("role/"):
            return cls(arn, account, rest.rsplit("/", 1)[-1])
        if service == "sts" and rest.startswith("assumed-role/") and rest.count("/") >= 2:
            _, role, session = rest.split("/", 2)
            return cls(arn, account, role, session)
        return cls(arn, account)


_ACCOUNT = re.compile(r"^(?:\d{12}|arn:aws[\w-]*:iam::(\d{12}):root)$")


def _aws_principal(entry: str, caller: _Caller) -> tuple[Tri, bool]:
    """(does `entry` name the caller, is it by account): an account entry delegates to the
    account's own IAM policies rather than granting by itself."""
    if entry == "*":
        return True, False
    account = _ACCOUNT.match(entry)
    if account:
        wanted = account.group(1) or entry
        return (None if caller.account is None else caller.account == wanted), True
    if caller.arn is None:
        return None, False
    if entry == caller.arn:
        return True, False
    named = _Caller.parse(entry)
    if named.role is None or named.account != caller.account or named.role != caller.role:
        return False, False
    if named.session is None:  # a role ARN names every session of the role
        return True, False
    # A session ARN in the policy, the caller given as a role: depends on the session name.
    return (None if caller.session is None else named.session == caller.session), False


def _principal_of(
    stmt: Mapping[str, Any], entries: Callable[[Any], tuple[Tri, Tri]]
) -> tuple[Tri, Tri]:
    """(direct, by-account) match of the statement's Principal or NotPrincipal."""
    if "NotPrincipal" in stmt:
        direct, by_account = entries(stmt["NotPrincipal"])
        return _not(_or((direct, by_account))), False
    if "Principal" not in stmt:
        return False, False
    return entries(stmt["Principal"])


def _aws_entries(caller: _Caller) -> Callable[[Any], tuple[Tri, Tri]]:
    def match(principal: Any) -> tuple[Tri, Tri]:
        if principal == "*":
            return True, False
        if not isinstance(principal, Mapping) or "AWS" not in principal:
            return False, False
        found = [_aws_principal(e, caller) for e in _strings(principal["AWS"]) or []]
        return _or(m for m, acct in found if not acct), _or(m for m, acct in found if acct)

    return match


def _service_entries(service: str) -> Callable[[Any], tuple[Tri, Tri]]:
    def match(principal: Any) -> tuple[Tri, Tri]:
        if principal == "*":
            return True, False
        if not isinstance(principal, Mapping):
            return False, False
        names = [s.lower() for s in _strings(principal.get("Service", [])) or []]
        return service.lower() in names, False

    return match


# --- statements -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hit:
    """A statement that applies (applies=True) or might apply (None) to the request."""

    label: str  # "policy#Sid-or-index"
    phrase: str  # "Policy X statement #0", for sentences
    allow: bool
    applies: Tri
    by_account: bool  # matched only through an account principal (resource policies)
    shown: str  # the Resource pattern that matched, or the resource itself
    why: str  # what the answer depends on when applies is None


def _short(name: str) -> str:
    """A policy's name without the noise: the last part of an ARN, "role/policy" for inline."""
    if name.startswith(("inline:", "resource:")):
        return name.split(":", 1)[1]
    return name.rsplit("/", 1)[-1] if ":policy/" in name else name


def _phrase(name: str, role: str) -> str:
    """How a person names the policy: "Policy X", "Inline policy Y", "Resource policy of Z"."""
    if role == "trust":
        return "Trust policy"
    if role == "boundary":
        return f"Permissions boundary {_short(name)}"
    if name.startswith("inline:"):
        return f"Inline policy {_short(name)}"
    if name.startswith("resource:"):
        return f"Resource policy of {_short(name)}"
    return f"Policy {_short(name)}"


def _scan(
    doc: PolicyDoc,
    role: str,
    action: str,
    resource: str | None,
    ctx: _Ctx,
    principals: Callable[[Any], tuple[Tri, Tri]] | None,
) -> list[_Hit]:
    """Every statement of `doc` that applies or might apply; malformed statements are skipped."""
    hits = []
    policy = _phrase(doc.name, role)
    for index, sid, stmt in _statements(parse_document(doc.document)):
        effect = stmt.get("Effect")
        if effect not in ("Allow", "Deny") or ("Action" in stmt) == ("NotAction" in stmt):
            continue
        actions = _strings(stmt.get("Action", stmt.get("NotAction")))
        if actions is None:
            continue
        action_hit = any(
            _glob_match(_literal_glob(a, True), action, ignore_case=True) for a in actions
        )
        if action_hit == ("NotAction" in stmt):
            continue
        shown = resource or "*"
        res_hit: Tri = True
        if resource is not None and ("Resource" in stmt or "NotResource" in stmt):
            # No Resource element (ECR repository, trust policies): the attached resource itself.
            patterns = _strings(stmt.get("Resource", stmt.get("NotResource")))
            if patterns is None:
                continue
            found = [(_like(p, resource, ctx), p) for p in patterns]
            res_hit = _or(hit for hit, _ in found)
            if "NotResource" in stmt:
                res_hit = _not(res_hit)
            else:
                shown = next((p for hit, p in found if hit), resource)
        direct, by_account = (
            (True, False) if principals is None else _principal_of(stmt, principals)
        )
        cond = _condition(stmt.get("Condition"), ctx)
        why = _why(stmt, cond, (direct, by_account))
        statement = f"statement {sid}" if sid else f"statement #{index}"
        label, phrase = f"{doc.name}#{sid or index}", f"{policy} {statement}"
        # An Allow naming the account delegates to the account's IAM policies (kept apart); a
        # Deny naming the account covers every principal in it.
        ways = (
            [(direct, False), (by_account, True)]
            if effect == "Allow"
            else [(_or((direct, by_account)), False)]
        )
        for who, account_only in ways:
            applies = _and((res_hit, who, cond))
            if applies is not False:
                hits.append(
                    _Hit(label, phrase, effect == "Allow", applies, account_only, shown, why)
                )
    return hits


def _why(stmt: Mapping[str, Any], cond: Tri, principal: tuple[Tri, Tri]) -> str:
    """What an uncertain statement depends on, for the CONDITIONAL sentence."""
    if cond is None:
        block = stmt["Condition"]
        ops = block.values() if isinstance(block, Mapping) else []
        keys = sorted({str(k) for keys in ops if isinstance(keys, Mapping) for k in keys})
        return f"its condition on {', '.join(keys)} holds" if keys else "its condition holds"
    if None in principal:
        return "the calling principal or session is the one it names"
    return "the policy variables in its Resource match"


def _says(hit: _Hit, action: str) -> str:
    verb = "allows" if hit.allow else "denies"
    return f"{hit.phrase} {verb} {action} on {hit.shown}"


def _some(hits: Sequence[_Hit]) -> str:
    """The "(and N more statements)" suffix for a sentence that cites only the first hit."""
    more = len(hits) - 1
    return f" (and {more} more statement{'s' * (more > 1)})" if more > 0 else ""


# --- evaluation -----------------------------------------------------------------------------------


def _context(context: Mapping[str, str | Sequence[str]] | None, caller: _Caller) -> _Ctx:
    """Lower-cased keys (condition keys are case-insensitive); the caller's account is known."""
    ctx = {
        k.lower(): ((v,) if isinstance(v, str) else tuple(v)) for k, v in (context or {}).items()
    }
    if caller.account:
        ctx.setdefault("aws:principalaccount", (caller.account,))
    if caller.arn and caller.role and caller.session is None:
        ctx.setdefault("aws:principalarn", (caller.arn,))
    return ctx


def evaluate(
    identity: Sequence[PolicyDoc],
    action: str,
    resource: str,
    *,
    principal_arn: str | None = None,
    resource_policy: PolicyDoc | None = None,
    boundary: PolicyDoc | None = None,
    context: Mapping[str, str | Sequence[str]] | None = None,
    same_account: bool = True,
    resource_policy_required: bool = False,
) -> Evaluation:
    """Whether the principal whose identity policies are `identity` may do `action` on `resource`.

    `context` gives condition-key values; a key mapped to [] is known to be absent from the
    request, a key not given is unknown (so its conditions make the answer CONDITIONAL).
    `resource_policy_required` is for KMS: identity policies count only when the key policy
    delegates to the account (allows "arn:aws:iam::<acct>:root"); pass it with the key policy.
    A permissions boundary also limits what a resource policy grants, as it does for role
    principals (ECS calls as a role session). Raises ValueError when a document cannot be parsed.
    """
    if resource_policy_required and resource_policy is None:
        raise ValueError("resource_policy_required needs the resource policy (the KMS key policy)")
    caller = _Caller.parse(principal_arn)
    ctx = _context(context, caller)
    ident = [h for d in identity for h in _scan(d, "identity", action, resource, ctx, None)]
    bound = _scan(boundary, "boundary", action, resource, ctx, None) if boundary else []
    res = (
        _scan(resource_policy, "resource", action, resource, ctx, _aws_entries(caller))
        if resource_policy
        else []
    )

    def allows(hits: Iterable[_Hit], by_account: bool | None = None) -> Tri:
        return _or(
            h.applies
            for h in hits
            if h.allow and (by_account is None or h.by_account == by_account)
        )

    denies = [h for h in (*ident, *bound, *res) if not h.allow]
    deny = _or(h.applies for h in denies)
    id_ok, direct, delegated = allows(ident), allows(res, False), allows(res, True)
    bound_ok = allows(bound) if boundary else True
    if not same_account:
        grant = _and((bound_ok, id_ok, _or((direct, delegated))))
    elif resource_policy_required:
        grant = _and((bound_ok, _or((direct, _and((delegated, id_ok))))))
    else:
        grant = _and((bound_ok, _or((id_ok, direct))))

    def result(decision: Decision, hits: Sequence[_Hit], detail: str) -> Evaluation:
        return Evaluation(action, resource, decision, tuple(h.label for h in hits), detail)

    def missing() -> str:
        """The sentence for an implicit deny: which of the needed grants is missing."""
        what = f"{action} on {resource}"
        rp = f"the resource policy of {resource}"
        ids = "The identity policies " + ("allow" if id_ok else "may allow")
        if boundary is not None and bound_ok is False and (id_ok is not False or direct):
            who = ids if id_ok is not False else f"{rp[0].upper()}{rp[1:]} allows"
            return (
                f"{who} {what}, but {_phrase(boundary.name, 'boundary')} "
                "does not, so the boundary denies it."
            )
        if resource_policy_required and id_ok is not False and resource_policy is not None:
            root = f"arn:aws:iam::{caller.account or '<account>'}:root"
            return (
                f"{ids} {what}, but {rp} neither allows the principal nor "
                f"delegates to the account ({root}), so identity policies do not count."
            )
        if not same_account and id_ok is not False:
            return (
                f"{ids} {what}, but {rp} does not allow the principal, "
                "and cross-account access needs both."
            )
        if not same_account and (direct or delegated):
            return (
                f"{rp[0].upper()}{rp[1:]} allows {what}, but no identity policy does, "
                "and cross-account access needs both."
            )
        count = len(identity)
        names = ", ".join(_short(d.name) for d in identity[:3])
        listed = f" ({names}{', ...' if count > 3 else ''})" if count else ""
        also = f" and {rp} does not either" if resource_policy is not None else ""
        plural = "y" if count == 1 else "ies"
        return f"No statement of the {count} identity polic{plural}{listed} allows {what}{also}."

    if deny:
        hard = [h for h in denies if h.applies]
        return result(Decision.EXPLICIT_DENY, hard, f"{_says(hard[0], action)}{_some(hard)}.")
    if grant is False:
        return result(Decision.IMPLICIT_DENY, [], missing())
    if deny is None or grant is None:
        open_denies = [h for h in denies if h.applies is None]
        if open_denies:
            first = open_denies[0]
            return result(
                Decision.CONDITIONAL,
                open_denies,
                f"{_says(first, action)} when {first.why}, so access is conditional.",
            )
        maybe = [h for h in (*ident, *bound, *res) if h.allow and h.applies is None]
        first = maybe[0]
        return result(
            Decision.CONDITIONAL,
            maybe,
            f"{_says(first, action)} only when {first.why}{_some(maybe)}.",
        )

    def sure(hits: Iterable[_Hit], by_account: bool | None = None) -> list[_Hit]:
        return [
            h
            for h in hits
            if h.allow and h.applies and (by_account is None or h.by_account == by_account)
        ]

    if not same_account:
        groups = [sure(ident), sure(res)]
    elif resource_policy_required:
        groups = [sure(res, False)] if direct else [sure(ident), sure(res, True)]
    else:
        groups = [sure(ident)] if id_ok else [sure(res, False)]
    groups.append(sure(bound))
    used = [h for g in groups for h in g]
    detail = "; ".join(f"{_says(g[0], action)}{_some(g)}" for g in groups if g)
    return result(Decision.ALLOWED, used, f"{detail}.")


def trust_allows(
    trust_policy: Mapping[str, Any] | str,
    service: str,
    *,
    context: Mapping[str, str | Sequence[str]] | None = None,
) -> Evaluation:
    """Whether the role's trust policy lets `service` (e.g. ecs-tasks.amazonaws.com) call
    sts:AssumeRole; when it does not, the detail names whom it trusts instead, because trusting
    ecs.amazonaws.com instead of ecs-tasks.amazonaws.com is a common mistake.

    The Evaluation's resource is "*" (the role the trust policy belongs to).
    """
    action = "sts:AssumeRole"
    doc = PolicyDoc("trust-policy", trust_policy)
    ctx = _context(context, _Caller(None))
    hits = _scan(doc, "trust", action, None, ctx, _service_entries(service))
    denies = [h for h in hits if not h.allow]
    allows_ = [h for h in hits if h.allow]
    deny, grant = _or(h.applies for h in denies), _or(h.applies for h in allows_)

    def result(decision: Decision, used: Sequence[_Hit], detail: str) -> Evaluation:
        return Evaluation(action, "*", decision, tuple(h.label for h in used), detail)

    if deny:
        sure = [h for h in denies if h.applies]
        return result(
            Decision.EXPLICIT_DENY,
            sure,
            f"{sure[0].phrase} denies {action} to {service}{_some(sure)}.",
        )
    if grant is False:
        trusted = _trusted(parse_document(trust_policy), action)
        if service.lower() in (t.lower() for t in trusted):
            keys = sorted(ctx)
            known = ", ".join(f"{k}={','.join(ctx[k])}" for k in keys if k.startswith("aws:source"))
            unmet = _unmet(parse_document(trust_policy), ctx)
            return result(
                Decision.IMPLICIT_DENY,
                [],
                f"The trust policy trusts {service} only under conditions this task does not "
                f"meet ({known or 'its condition keys'})"
                + (f": {'; '.join(unmet)}." if unmet else "."),
            )
        if trusted:
            return result(
                Decision.IMPLICIT_DENY,
                [],
                f"The trust policy trusts {', '.join(trusted)}, not {service}.",
            )
        return result(
            Decision.IMPLICIT_DENY,
            [],
            f"The trust policy lets no principal call {action}, so {service} cannot "
            "assume the role.",
        )
    if deny is None or grant is None:
        open_ = [h for h in denies if h.applies is None] or [
            h for h in allows_ if h.applies is None
        ]
        first = open_[0]
        verb = "lets" if first.allow else "stops"
        return result(
            Decision.CONDITIONAL,
            open_,
            f"{first.phrase} {verb} {service} assume the role only when {first.why}.",
        )
    sure = [h for h in allows_ if h.applies]
    return result(
        Decision.ALLOWED, sure, f"{sure[0].phrase} lets {service} assume the role ({action})."
    )


def _unmet(doc: Mapping[str, Any], ctx: _Ctx) -> list[str]:
    """Each aws:Source* condition of an Allow statement that the request does not meet, said
    with the reason (another account or Region, one cluster), for the trust policy's finding."""
    out: list[str] = []
    for _, _, stmt in _statements(doc):
        block = stmt.get("Condition")
        if stmt.get("Effect") != "Allow" or not isinstance(block, Mapping):
            continue
        for op, keys in block.items():
            if not isinstance(keys, Mapping):
                continue
            for key, value in keys.items():
                wanted = _strings(value)
                if not str(key).lower().startswith("aws:source") or wanted is None:
                    continue
                if _operator(str(op), str(key), wanted, ctx) is not False:
                    continue
                shown = f"{op} {key} {', '.join(wanted)}"
                have = ", ".join(ctx.get(str(key).lower(), ())) or "nothing"
                if str(key).lower() == "aws:sourcearn" and _ECS_SOURCE in ctx:
                    scoped = [w for w in wanted if _ecs_source_arn(w, have, True) is not None]
                    one = any(":cluster/" in w or ":task/" in w for w in scoped)
                    why = (
                        "it scopes the role to one cluster, which AWS documents as not "
                        f"supported (use the wildcard {have})"
                        if one
                        else f"ECS sends an ECS ARN of the task's account and Region ({have})"
                    )
                else:
                    why = f"the task's value is {have}"
                line = f"{shown}: {why}"
                if line not in out:
                    out.append(line)
    return out


def _trusted(doc: Mapping[str, Any], action: str) -> list[str]:
    """Principals that Allow statements of a trust policy let call `action`, for the detail."""
    names: list[str] = []
    for _, _, stmt in _statements(doc):
        actions = _strings(stmt.get("Action", [])) or []
        if stmt.get("Effect") != "Allow" or not any(
            _glob_match(_literal_glob(a, True), action, ignore_case=True) for a in actions
        ):
            continue
        principal = stmt.get("Principal")
        if principal == "*":
            names.append("*")
        elif isinstance(principal, Mapping):
            for values in principal.values():
                names += [n for n in _strings(values) or [] if n not in names]
    return names


# --- beyond identity policies (issue 11) ------------------------------------------------------------


def endpoint_policy_allows(
    document: Mapping[str, Any] | str | None,
    endpoint: str,
    action: str,
    resource: str,
    *,
    principal_arn: str | None = None,
    context: Mapping[str, str | Sequence[str]] | None = None,
) -> Evaluation:
    """Whether a VPC endpoint policy lets `action` on `resource` through for the principal.

    An endpoint policy is a resource-style policy on the endpoint: a request passes only when a
    statement allows it and none denies it; no policy at all means full access (AWS's default).
    An Allow naming the principal's account admits every principal of that account.
    https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
    """
    if document is None or document == "" or document == {}:
        return Evaluation(
            action,
            resource,
            Decision.ALLOWED,
            (),
            f"Endpoint {endpoint} has no policy (full access).",
        )
    caller = _Caller.parse(principal_arn)
    ctx = _context(context, caller)
    doc = PolicyDoc(f"resource:{endpoint}", document)
    hits = _scan(doc, "resource", action, resource, ctx, _aws_entries(caller))
    denies = [h for h in hits if not h.allow]
    allows_ = [h for h in hits if h.allow]
    deny, grant = _or(h.applies for h in denies), _or(h.applies for h in allows_)
    name = f"The policy of endpoint {endpoint}"
    if deny:
        sure = [h for h in denies if h.applies]
        label = sure[0].label.rsplit("#", 1)[-1]
        return Evaluation(
            action,
            resource,
            Decision.EXPLICIT_DENY,
            tuple(h.label for h in sure),
            f"{name} denies {action} on {resource} (statement {label}).",
        )
    if grant is False:
        granted = _granted(parse_document(document))
        scope = f"; it allows only {granted}" if granted else ""
        return Evaluation(
            action,
            resource,
            Decision.IMPLICIT_DENY,
            (),
            f"{name} allows no {action} on {resource}{scope}.",
        )
    if deny is None or grant is None:
        open_ = [h for h in (*denies, *allows_) if h.applies is None]
        return Evaluation(
            action,
            resource,
            Decision.CONDITIONAL,
            tuple(h.label for h in open_),
            f"{name} lets {action} on {resource} through only when {open_[0].why}.",
        )
    sure = [h for h in allows_ if h.applies]
    return Evaluation(
        action,
        resource,
        Decision.ALLOWED,
        tuple(h.label for h in sure),
        f"{name} allows {action} on {resource}.",
    )


def _granted(doc: Mapping[str, Any]) -> str:
    """The Allow statements' action/resource pairs, for an implicit-deny sentence."""
    parts: list[str] = []
    for _, _, stmt in _statements(doc):
        if stmt.get("Effect") != "Allow":
            continue
        actions = ", ".join(_strings(stmt.get("Action", stmt.get("NotAction", []))) or [])
        resources = ", ".join(_strings(stmt.get("Resource", "*")) or [])
        parts.append(f"{actions} on {resources}")
    return "; ".join(parts[:3])


def ecs_trust_context(account: str, task_arn: str) -> dict[str, str]:
    """The condition keys ECS sets when it assumes a task or execution role for a task.

    aws:SourceAccount is the task's account; aws:SourceArn is an ECS ARN of the task's account
    and Region whose exact form AWS does not document: the documented trust policy matches it
    with `ArnLike arn:aws:ecs:REGION:ACCOUNT:*` and "using the aws:SourceArn condition key to
    specify a specific cluster is not currently supported"
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html). The
    evaluator judges SourceArn conditions against that scope, never against the task's own ARN.
    """
    parts = task_arn.split(":", 5)
    partition, region = (parts[1], parts[3]) if len(parts) == 6 else ("aws", "")
    scope = f"arn:{partition}:ecs:{region}:{account}:*"
    return {"aws:SourceAccount": account, "aws:SourceArn": scope, _ECS_SOURCE: "true"}


def ecs_trust_policy(account: str, region: str, partition: str = "aws") -> str:
    """The trust policy AWS documents for task and execution roles, confused-deputy conditions
    included (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": f"arn:{partition}:ecs:{region}:{account}:*"},
                        "StringEquals": {"aws:SourceAccount": account},
                    },
                }
            ],
        },
        separators=(",", ":"),
    )


_SCP = re.compile(
    r"explicit deny in an? (?P<kind>service control policy|resource control policy|"
    r"permissions boundary|session policy|identity-based policy|resource-based policy)",
    re.IGNORECASE,
)


def scp_denial(message: str) -> str | None:
    """ "service control policy" / "resource control policy" when AWS's message says one of them
    denied the call: they live in the organization's management account, which a member account
    cannot read, so the finding is a data gap, not the role."""
    match = _SCP.search(message)
    if match is None:
        return None
    kind = match["kind"].lower()
    return kind if kind.endswith("control policy") else None


@dataclass(frozen=True, slots=True)
class SimulatedDecision:
    """What iam:SimulatePrincipalPolicy answered for one (action, resource)."""

    action: str
    resource: str
    decision: Decision
    statements: tuple[str, ...]  # SourcePolicyId#... of the matched statements


_SIM_DECISIONS = {
    "allowed": Decision.ALLOWED,
    "explicitdeny": Decision.EXPLICIT_DENY,
    "implicitdeny": Decision.IMPLICIT_DENY,
}


def simulate(
    reader: Reader,
    role_arn: str,
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    context: Mapping[str, str] | None = None,
) -> list[SimulatedDecision] | None:
    """A second opinion from iam:SimulatePrincipalPolicy; None when simulation is denied or not
    available (the local evaluation then stands alone). Read-only: simulation changes nothing."""
    from ecsdoctor.errors import ReadError

    entries = [
        {"ContextKeyName": key, "ContextKeyValues": [value], "ContextKeyType": "string"}
        for key, value in (context or {}).items()
    ]
    try:
        results = reader.pages(
            "iam",
            "SimulatePrincipalPolicy",
            "EvaluationResults",
            PolicySourceArn=role_arn,
            ActionNames=list(actions),
            ResourceArns=list(resources),
            ContextEntries=entries or None,
        )
    except ReadError:
        return None
    except NotImplementedError:  # moto in-process
        return None
    out: list[SimulatedDecision] = []
    for item in results:
        decision = _SIM_DECISIONS.get(str(item.get("EvalDecision", "")).lower())
        if decision is None:
            continue
        statements = tuple(
            f"{s.get('SourcePolicyId', '?')}#{(s.get('StartPosition') or {}).get('Line', '?')}"
            for s in item.get("MatchedStatements", []) or []
        )
        out.append(
            SimulatedDecision(
                str(item.get("EvalActionName")),
                str(item.get("EvalResourceName", "*")),
                decision,
                statements,
            )
        )
    return out


def disagreement(local: Evaluation, simulated: Sequence[SimulatedDecision]) -> str | None:
    """A sentence when the simulator and the local evaluation disagree on allowed vs denied.

    CONDITIONAL never disagrees (the local evaluator refused to guess); the simulator cannot see
    resource policies for roles, so a local deny that only a resource policy explains is recorded
    but the local answer stays the source.
    """
    denied = {Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY}
    for sim in simulated:
        if sim.action.lower() != local.action.lower() or sim.resource not in (
            local.resource,
            "*",
        ):
            continue
        if local.decision is Decision.CONDITIONAL:
            return None
        if (sim.decision in denied) != (local.decision in denied):
            return (
                f"iam:SimulatePrincipalPolicy says {sim.decision.value} for {sim.action} on "
                f"{sim.resource}; the local evaluation of the policy documents says "
                f"{local.decision.value} ({local.detail})"
            )
        return None
    return None


@dataclass(frozen=True, slots=True)
class Attributed:
    """An evaluation plus whose policy decided a denial, so the finding lands on that resource:
    "identity" (the role's own policies), "boundary" (its permissions boundary), "resource"
    (the repository, key or secret policy), or "" when nothing was denied."""

    evaluation: Evaluation
    decided_by: str


def decide(
    identity: Sequence[PolicyDoc],
    action: str,
    resource: str,
    *,
    principal_arn: str | None = None,
    resource_policy: PolicyDoc | None = None,
    boundary: PolicyDoc | None = None,
    context: Mapping[str, str | Sequence[str]] | None = None,
    same_account: bool = True,
    resource_policy_required: bool = False,
) -> Attributed:
    """`evaluate`, then which policy made the denial: an explicit Deny belongs to the document
    holding it; an implicit deny belongs to the boundary when the request passes without it,
    and to the resource policy when the identity policies alone would allow it but the resource
    (a KMS key, a cross-account repository) neither allows nor delegates."""
    common: dict[str, Any] = {"principal_arn": principal_arn, "context": context}
    verdict = evaluate(
        identity,
        action,
        resource,
        resource_policy=resource_policy,
        boundary=boundary,
        same_account=same_account,
        resource_policy_required=resource_policy_required,
        **common,
    )
    passing = (Decision.ALLOWED, Decision.CONDITIONAL)
    if verdict.decision in passing:
        return Attributed(verdict, "")
    if verdict.decision is Decision.EXPLICIT_DENY:
        holder = verdict.deciding[0].rsplit("#", 1)[0] if verdict.deciding else ""
        if resource_policy is not None and holder == resource_policy.name:
            return Attributed(verdict, "resource")
        if boundary is not None and holder == boundary.name:
            return Attributed(verdict, "boundary")
        return Attributed(verdict, "identity")
    if boundary is not None:
        unbounded = evaluate(
            identity,
            action,
            resource,
            resource_policy=resource_policy,
            same_account=same_account,
            resource_policy_required=resource_policy_required,
            **common,
        )
        if unbounded.decision in passing:
            return Attributed(verdict, "boundary")
    if resource_policy_required or not same_account:
        alone = evaluate(identity, action, resource, **common)
        if alone.decision in passing:
            return Attributed(verdict, "resource")
    return Attributed(verdict, "identity")
