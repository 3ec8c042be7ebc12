"""Gates and prompts: where a run waits for a person, and how each decision is recorded.

A decision comes, in this order, from the answers file, from ``--yes`` (gates only), or
from the operator through an ``Asker``; unattended with no answer, the asker refuses at
once (``GateRefused``) and the refusal is recorded. Every decision is durable before the
step it decides goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from respond.errors import GateRefused
from respond.events import EventDraft, EventKind

if TYPE_CHECKING:
    from respond.engine.journal import Journal
    from respond.engine.observer import Observers
    from respond.runbook.model import Step

Question = Literal["confirm", "rerun"]  # a tabletop walk refused unattended: "walk"
NO_LOG_PREVIEW = "(commands hidden: the step is no_log)"
# The only words that decide a gate. The answers file is checked against them when it is
# read (on, y, 1 and the like are refused there); whatever else reaches a gate confirms it
# only as a yes or a true, never by accident.
CONFIRM_WORDS = frozenset({"yes", "true"})
REFUSE_WORDS = frozenset({"no", "false"})


class Asker(Protocol):
    """How the engine reaches a human. Implementations may raise GateRefused."""

    def confirm(self, step_id: str, text: str) -> bool: ...

    def ask(self, step_id: str, prompt: str, choices: list[str] | None) -> str: ...

    def walk(self, step: Step, text: str) -> tuple[bool, str]:
        """A tabletop drill's step: (True, "") done, or (False, reason) skipped."""
        ...


class Gatekeeper:
    def __init__(
        self,
        *,
        journal: Journal,
        asker: Asker,
        observers: Observers,
        answers: Mapping[str, Any],
        assume_yes: bool,
    ) -> None:
        self.journal = journal
        self.asker = asker
        self.observers = observers
        self.answers = answers
        self.assume_yes = assume_yes

    def answer_for(self, step_id: str, key: str) -> Any:
        """The answers file's decision for ``step_id`` (``confirm``, ``answer`` or
        ``rerun``), or None."""
        answers = self.answers
        if key == "rerun":
            rerun = answers.get("rerun")
            if isinstance(rerun, Mapping) and step_id in rerun:
                return rerun[step_id]
            return None
        value = answers.get(step_id)
        if isinstance(value, Mapping):
            return value.get(key)
        if key == "confirm" and isinstance(value, bool | str) and step_id in answers:
            return value
        if key == "answer" and step_id in answers:
            return value
        return None

    def confirm(
        self, step: Step, text: str, *, question: Question = "confirm", preview: Sequence[str] = ()
    ) -> bool:
        """Ask whether ``step`` may go on; the decision is recorded either way."""
        operator = self.journal.operator
        text = self.journal.masker.mask(text)
        if step.no_log:
            # the commands of a no_log step carry what it keeps out of the record
            preview = [NO_LOG_PREVIEW] if preview else []
        answer = self.answer_for(step.id, question)
        source = "answers file"
        # --yes confirms gates; whether to repeat an action that may already have run is
        # never assumed: only a person or an explicit `rerun:` answer decides it
        if answer is None and self.assume_yes and question != "rerun":
            answer, source = True, "--yes"
        if answer is None:
            source = "operator"
            self.journal.flush()  # a person may take hours: what is done is on disk first
            self.observers.gate(step, text, preview)
            try:
                answer = self.asker.confirm(step.id, text)
            except GateRefused as exc:
                self.journal.record(
                    EventDraft(
                        kind=EventKind.GATE_REFUSED,
                        actor=operator,
                        step_id=step.id,
                        data={
                            "text": text,
                            "by": "unattended",
                            "reason": str(exc),
                            "question": question,
                        },
                    )
                )
                raise
        confirmed = is_yes(answer)
        self.journal.record(
            EventDraft(
                kind=EventKind.GATE_CONFIRMED if confirmed else EventKind.GATE_REFUSED,
                actor=operator,
                step_id=step.id,
                data={"text": text, "by": source, "question": question, "preview": list(preview)},
            )
        )
        return confirmed

    def walk(self, step: Step, text: str) -> tuple[bool, str, str]:
        """A tabletop drill's step marked done or skipped with a reason: from the answers
        file's ``steps:``, ``--yes`` (done), or the people in the room through the asker.
        Returns (done, reason, who decided). Unattended with no answer: recorded and
        refused (``GateRefused``)."""
        from respond.engine.drill import walk_decision

        steps = self.answers.get("steps")
        answer = steps.get(step.id) if isinstance(steps, Mapping) else None
        if answer is not None:
            decided = walk_decision(answer)
            if decided is None:  # the answers file is checked when read: not reached
                raise GateRefused(
                    f"the answers file's steps: {step.id}: {answer!r} is not done or skip"
                )
            return (*decided, "answers file")
        if self.assume_yes:
            return True, "", "--yes"
        self.journal.flush()  # the room may talk for a while: what is done is on disk first
        walk = getattr(self.asker, "walk", None)
        try:
            if walk is None:
                raise GateRefused(f"step {step.id!r} is walked in a tabletop drill: nobody to ask")
            done, reason = walk(step, text)
        except GateRefused as exc:
            self.journal.record(
                EventDraft(
                    kind=EventKind.GATE_REFUSED,
                    actor=self.journal.operator,
                    step_id=step.id,
                    data={"text": text, "by": "unattended", "reason": str(exc), "question": "walk"},
                )
            )
            raise
        return bool(done), self.journal.masker.mask(reason), "operator"

    def ask(self, step_id: str, prompt: str, choices: list[str] | None) -> str:
        """A question from a step (manual): the prompt and the answer are both recorded."""
        masker = self.journal.masker
        prompt = masker.mask(prompt)
        # committed with everything held before it: on disk before anyone is asked
        self.journal.record(
            EventDraft(
                kind=EventKind.PROMPT, step_id=step_id, data={"prompt": prompt, "choices": choices}
            )
        )
        answer = self.answer_for(step_id, "answer")
        source = "answers file"
        if answer is None:
            source = "operator"
            self.observers.prompt(step_id, prompt, choices)
            try:
                answer = self.asker.ask(step_id, prompt, choices)
            except GateRefused as exc:
                self.journal.record(
                    EventDraft(
                        kind=EventKind.GATE_REFUSED,
                        actor=self.journal.operator,
                        step_id=step_id,
                        data={
                            "text": prompt,
                            "by": "unattended",
                            "reason": str(exc),
                            "question": "answer",
                        },
                    )
                )
                raise
        if isinstance(answer, bool):  # YAML reads an unquoted yes/no as a boolean
            answer = "yes" if answer else "no"
        answer = str(answer)
        if choices and answer not in choices:
            raise GateRefused(
                f"answer {answer!r} for step {step_id!r} is not one of {', '.join(choices)}"
            )
        self.journal.record(
            EventDraft(
                kind=EventKind.ANSWER,
                actor=self.journal.operator,
                step_id=step_id,
                data={"answer": masker.mask(answer), "by": source},
            )
        )
        return answer


def is_yes(answer: Any) -> bool:
    if isinstance(answer, bool):
        return answer
    return str(answer).strip().lower() in CONFIRM_WORDS
