"""A finish step's notice goes through the same channels as a notify step's, including a
channel whose URL is templated from the inventory's variables (as the shipped respond.yaml
does for the on-call, vendor and leaders channels)."""

from __future__ import annotations

from pathlib import Path

from clikit import Cli
from enginekit import events_of, write_runbook

from respond.events import EventKind


def test_a_finish_notice_renders_channel_urls_with_the_inventory_variables(
    project: Path, respond: Cli
) -> None:
    config = project / "respond.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "channels:\n", "channels:\n  site: {url: 'json://127.0.0.1:9/{{ site }}'}\n"
        ),
        encoding="utf-8",
    )
    write_runbook(
        project,
        "tell",
        """steps:
  - {id: told, kind: notify, message: "told", channels: [site, log]}
  - {id: done, kind: finish, outcome: resolved, message: "fixed it", channels: [site, log]}
""",
    )
    assert respond("run", "tell", "--json").json()["outcome"] == "resolved"
    failed = {
        e.step_id: e.data["error"]
        for e in events_of(project)
        if e.kind == EventKind.NOTIFICATION_FAILED and e.data["channel"] == "site"
    }
    # the URL was rendered (site → main) and tried; only the closed port refused it
    assert failed["done"] == failed["told"] and "undefined" not in failed["done"], failed
