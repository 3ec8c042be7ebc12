"""decide: ordered rules `when → verdict (+ message)` and an `otherwise`, evaluated once on
the control host; the first rule whose `when` is true gives the verdict, registered for
later steps to branch on (`diag.verdict == 'on-battery'`)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from respond.kinds.base import ClosedWords, KindField, Rendered, RenderEnv, StepKind, TemplateMode
from respond.results import HostResult

if TYPE_CHECKING:
    from respond.inventory import Host
    from respond.runbook.model import Step

VERDICT = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_RULE_KEYS = ("when", "verdict", "message")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule; ``when`` is None for `otherwise`."""

    when: str | None
    verdict: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision(Rendered):
    """The rules to evaluate, in order, the last one being `otherwise`."""

    rules: tuple[Rule, ...]


class DecideKind(StepKind):
    name = "decide"
    executor = "respond.executors.compute:DecideExecutor"
    summary = "Ordered rules when → verdict; the first true rule's verdict is registered."
    fields: ClassVar[tuple[KindField, ...]] = (
        KindField(
            "rules",
            "value",
            "decide: ordered rules, each {when: expression, verdict: word, message: text}; "
            "the first whose `when` is true gives the verdict.",
            template="none",
        ),
        KindField(
            "otherwise",
            "value",
            "decide: {verdict: word, message: text} when no rule is true.",
            template="none",
        ),
    )
    default_timeout = 10.0
    required: ClassVar[tuple[tuple[str, ...], ...]] = (("rules",), ("otherwise",), ("register",))
    result_keys = ("verdict", "message", "verdicts", "messages")
    pure = True

    def problems(self, raw: Mapping[str, Any], *, inline: bool) -> list[tuple[str, str | None]]:
        # rules, otherwise and register themselves are required (see `required`)
        found: list[tuple[str, str | None]] = []
        rules = raw.get("rules")
        if rules is not None:
            if not isinstance(rules, list) or not rules:
                found.append(("'rules' is a list of rules {when, verdict, message}", "rules"))
            else:
                for number, rule in enumerate(rules, start=1):
                    found += [(m, "rules") for m in _rule_problems(rule, f"rule {number}")]
        otherwise = raw.get("otherwise")
        if otherwise is not None:
            found += [(m, "otherwise") for m in _rule_problems(otherwise, "otherwise")]
        return found

    def template_fields(self, step: Step) -> Iterator[tuple[tuple[Any, ...], str, TemplateMode]]:
        for j, rule in enumerate(step.rules or ()):
            if isinstance(rule, Mapping) and isinstance(rule.get("when"), str):
                yield ("rules", j, "when"), rule["when"], "expr"
            if isinstance(rule, Mapping) and isinstance(rule.get("message"), str):
                yield ("rules", j, "message"), rule["message"], "text"
        otherwise = step.otherwise
        if isinstance(otherwise, Mapping) and isinstance(otherwise.get("message"), str):
            yield ("otherwise", "message"), otherwise["message"], "text"

    def closed_values(self, step: Step) -> dict[str, ClosedWords]:
        words = tuple(dict.fromkeys(rule.verdict for rule in _rules(step)))
        return {"verdict": ClosedWords(words), "verdicts": ClosedWords(words, many=True)}

    def render(
        self, step: Step, variables: dict[str, Any], hosts: Sequence[Host], env: RenderEnv
    ) -> Decision:
        return Decision(rules=_rules(step), variables=variables)

    def actions(self, rendered: Rendered) -> list[str]:
        assert isinstance(rendered, Decision)
        return [
            f"when {rule.when} → {rule.verdict}"
            if rule.when is not None
            else f"otherwise → {rule.verdict}"
            for rule in rendered.rules
        ]

    def plan_lines(self, step: Step, rendered: Rendered) -> list[str]:
        assert isinstance(rendered, Decision)
        return [
            line + (f": {rule.message}" if rule.message else "")
            for line, rule in zip(self.actions(rendered), rendered.rules, strict=True)
        ]

    def restorable(self, result: HostResult) -> bool:
        return "verdict" in result.data

    def host_detail(self, step: Step, result: HostResult) -> str:
        verdict = result.data.get("verdict")
        if verdict is None:
            return ""
        message = result.data.get("message") or ""
        return f"{verdict}: {message}" if message and not step.no_log else str(verdict)


def _rules(step: Step) -> tuple[Rule, ...]:
    rules = [
        Rule(str(r["when"]).strip(), str(r["verdict"]), str(r.get("message") or ""))
        for r in step.rules or ()
    ]
    otherwise = step.otherwise or {}
    rules.append(Rule(None, str(otherwise["verdict"]), str(otherwise.get("message") or "")))
    return tuple(rules)


def _rule_problems(rule: Any, label: str) -> list[str]:
    """What is wrong with one rule (or `otherwise`, which has no `when`)."""
    is_otherwise = label == "otherwise"
    if not isinstance(rule, Mapping):
        shape = "{verdict, message}" if is_otherwise else "{when, verdict, message}"
        return [f"{label} must be a mapping {shape}, got {rule!r}"]
    allowed = _RULE_KEYS[1:] if is_otherwise else _RULE_KEYS
    found = [
        f"{label}: unknown key {key!r} (a rule has {', '.join(allowed)})"
        + (": `otherwise` applies when no rule is true" if key == "when" else "")
        for key in rule
        if key not in allowed
    ]
    when = rule.get("when")
    if not is_otherwise and not (
        isinstance(when, bool) or (isinstance(when, str) and when.strip())
    ):
        found.append(f"{label} needs 'when' (an expression without braces)")
    verdict = rule.get("verdict")
    if verdict is None:
        found.append(f"{label} needs 'verdict' (a word like no-fault)")
    elif not isinstance(verdict, str) or not VERDICT.match(verdict):
        found.append(
            f"{label}: verdict {verdict!r} must be a plain word of lower-case letters, digits "
            "and '-' (e.g. on-battery)"
        )
    message = rule.get("message")
    if message is not None and not isinstance(message, str):
        found.append(f"{label}: message must be text, got {message!r}")
    return found


KIND = DecideKind()
