"""docs/drills.md "Writing a drill" stays true: its full example is a valid drill of this
repository's project, and its table names every key of the model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from respond.config import load_config
from respond.drills import check_drill, load_drill
from respond.drills.model import Drill, Inject, Objective, Participant, Schedule
from respond.lab.state import FAULTS

REPO = Path(__file__).resolve().parent.parent.parent
PAGE = REPO / "docs" / "drills.md"


def _section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    return text.split("## Writing a drill", 1)[1].split("<!-- section:", 1)[0]


def test_the_full_example_is_a_valid_drill_of_this_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = re.search(r"```yaml\n(.*?)```", _section(), re.DOTALL)
    assert example is not None
    path = tmp_path / "q1-power.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    monkeypatch.chdir(REPO)
    config = load_config(REPO)
    drill = load_drill(path, config)
    assert [str(i) for i in check_drill(drill, config, faults=tuple(FAULTS))] == []
    assert drill.mode == "lab" and len(drill.objectives) == 6


def test_the_table_names_every_key() -> None:
    listed = set(re.findall(r"^\| `([^`]+)`", _section(), re.MULTILINE))
    wanted = {f.alias or n for n, f in Drill.model_fields.items()}
    wanted |= {f"schedule.{n}" for n in Schedule.model_fields}
    wanted |= {f"inject[].{n}" for n in Inject.model_fields}
    wanted |= {f"participants[].{n}" for n in Participant.model_fields}
    wanted |= {f"objectives[].{n}" for n in Objective.model_fields if n != "by"}
    assert sorted(wanted - listed) == []
