"""The import-layer contract of src/respond, checked by walking every module's AST.

Layers, top to bottom (issue 8, "Types checked in CI"; STYLE.md section 2). A module may import
from its own package and from any layer below its own, never from a layer above, and never from
a sibling package of its own layer (the leaves excepted: they are single modules that form the
shared vocabulary, e.g. ``results`` uses ``errors``). Nothing imports ``respond.cli`` except
``respond.__main__``.

Also:
- a private module (a name starting with ``_``) is imported only from inside its own package;
- each heavy third-party library is imported only by the module that wraps it.

Imports under ``if TYPE_CHECKING:`` do not count: they are never executed. Imports inside
functions do count: they run, only later. Names imported by string (the executor and command
registries' ``"module:attribute"``, resolved with importlib) are not seen; both registries
name modules of their own package.

Only direct imports are checked, and that is enough: when every direct import goes down (or
stays in its package), no chain of them can go up or across.

Why an AST walk rather than import-linter (which installs here): import-linter covers the
layers, but the private-module rule, the per-library rules and an allow-list with a reason
per entry would be several contracts and ``ignore_imports`` patterns, and its report is not
the ``module → imported (line N): rule`` wanted here. This file is the whole contract, runs in
under a second inside pytest and adds no dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# Top to bottom. Each entry is a package (or module); a module belongs to the longest entry
# that is a prefix of its dotted name. "respond" is the package __init__ alone.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("respond.__main__",),
    ("respond.cli",),
    ("respond.reports", "respond.schedule"),  # SLA and other reports; the periodic entry point
    ("respond.engine", "respond.lab"),
    # incidents over the store: open, clocks, resolve, announcements; drill definitions,
    # schedules and scorecards
    ("respond.incidents", "respond.drills", "respond.inspections"),
    ("respond.executors",),
    # vendor-neutral network facts: per-OS commands, ntc-templates parsing, normalising
    ("respond.netfacts",),
    ("respond.timeline", "respond.runbook", "respond.inventory"),
    # what each step kind is; the severity policy; an incident's state folded from its events
    ("respond.kinds", "respond.policy", "respond.incident_state"),
    # graded checks: the Nagios result contract and the built-in checks (pure)
    ("respond.checks",),
    (
        "respond.errors",
        "respond.results",
        "respond.events",
        "respond.durations",
        "respond.secrets",
        "respond.config",
        "respond.yamlfile",
        "respond.sshopts",
        "respond.netos",
        "respond.clock",
        "respond",
    ),
)
# In this layer (the leaves), sibling entries may import each other.
LEAVES = len(LAYERS) - 1

# Third-party library → the modules (or packages) that alone may import it.
THIRD_PARTY: dict[str, tuple[str, ...]] = {
    "pydantic": ("respond.runbook.model", "respond.drills.model", "respond.inspections.model"),
    "paramiko": (
        "respond.executors.ssh",
        "respond.executors._paramiko",  # paramiko without invoke, for the ssh executor
        "respond.executors._sshargs",
        "respond.lab",
    ),
    "netmiko": ("respond.executors.netmiko",),
    "ansible_runner": ("respond.executors.ansible",),
    "ntc_templates": ("respond.engine.parsing", "respond.netfacts"),
    "fpdf": ("respond.reports.drill_pdf", "respond.reports.inspection_pdf"),
    "openpyxl": ("respond.reports.inspection_xlsx",),
    "docx": ("respond.reports.inspection_docx",),
}

# Violations accepted for a reason, keyed by (importing module, imported module, rule code).
# Remove an entry when its import is gone: test_allow_list_is_current fails on a stale one.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("respond.inspections.model", "respond.drills.model", "sibling"): "inspections are "
    "scheduled with the drills' Schedule model: one schedule syntax, validated once",
}


@dataclass(frozen=True, order=True)
class Violation:
    module: str
    imported: str
    line: int
    code: str  # upward | sibling | private | third-party | unlayered
    rule: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.module, self.imported, self.code)

    def __str__(self) -> str:
        return f"{self.module} → {self.imported} (line {self.line}): {self.rule}"


@dataclass(frozen=True)
class Import:
    target: str  # dotted name, resolved to a module where the name is a module
    line: int


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, nested ones included, except those under ``if TYPE_CHECKING:``."""
    for node in body:
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _statements(node.orelse)
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if not children:
                continue
            for child in children:
                if isinstance(child, ast.excepthandler | ast.match_case):
                    yield from _statements(child.body)
                elif isinstance(child, ast.stmt):
                    yield from _statements([child])


class Checker:
    def __init__(self, root: Path, package: str = "respond") -> None:
        self.root = root
        self.package = package
        self.modules: dict[str, Path] = {
            _module_name(p, root): p for p in sorted((root / package).rglob("*.py"))
        }
        # A layer entry counts once a module by that name exists (respond.kinds may not yet).
        self.layers = [
            tuple(e for e in layer if any(m == e or m.startswith(e + ".") for m in self.modules))
            for layer in LAYERS
        ]

    # -- resolving -------------------------------------------------------------------------
    def imports(self, module: str) -> Iterator[Import]:
        path = self.modules[module]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_pkg = path.name == "__init__.py"
        for node in _statements(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".")
                    if not is_pkg:
                        base.pop()
                    base = base[: len(base) - (node.level - 1)]
                    parent = ".".join(base + ([node.module] if node.module else []))
                else:
                    parent = node.module or ""
                for alias in node.names:
                    sub = f"{parent}.{alias.name}"
                    yield Import(sub if sub in self.modules else parent, node.lineno)

    # -- classifying -----------------------------------------------------------------------
    def entry_of(self, module: str) -> tuple[int, str] | None:
        """(layer index, layer entry) of a respond module; None when it is in no layer."""
        best: tuple[int, str] | None = None
        for index, layer in enumerate(self.layers):
            for entry in layer:
                matches = module == entry or (
                    entry != self.package and module.startswith(entry + ".")
                )
                if matches and (best is None or len(entry) > len(best[1])):
                    best = (index, entry)
        return best

    # -- rules -----------------------------------------------------------------------------
    def violations(self) -> list[Violation]:
        found: list[Violation] = []
        for module in self.modules:
            for imp in self.imports(module):
                found.extend(self._check(module, imp))
        return sorted(set(found))

    def _check(self, module: str, imp: Import) -> Iterator[Violation]:
        target, line = imp.target, imp.line
        top = target.split(".")[0]
        if top in THIRD_PARTY:
            allowed = THIRD_PARTY[top]
            if not any(module == a or module.startswith(a + ".") for a in allowed):
                yield Violation(
                    module,
                    target,
                    line,
                    "third-party",
                    f"{top} is imported only by {', '.join(allowed)}",
                )
            return
        if top != self.package:
            return
        src, dst = self.entry_of(module), self.entry_of(target)
        if src is None or dst is None:
            what = module if src is None else target
            yield Violation(module, target, line, "unlayered", f"{what} is in no layer")
            return
        if src[0] > dst[0]:
            yield Violation(
                module, target, line, "upward", f"upward import ({src[1]} is below {dst[1]})"
            )
        elif src[0] == dst[0] and src[1] != dst[1] and src[0] != LEAVES:
            yield Violation(
                module,
                target,
                line,
                "sibling",
                f"sibling import ({src[1]} and {dst[1]} are independent, same layer)",
            )
        # A private module: a dotted part starting with "_" (not a dunder such as __main__);
        # only its own package may import it.
        parts = target.split(".")
        for i, part in enumerate(parts):
            if part.startswith("_") and not part.endswith("__"):
                owner = ".".join(parts[:i])
                if not (module == owner or module.startswith(owner + ".")):
                    yield Violation(module, target, line, "private", f"private module of {owner}")
                break


def _report(violations: list[Violation], allowed: dict[tuple[str, str, str], str]) -> str:
    lines = []
    for v in violations:
        note = f"   [allowed: {allowed[v.key]}]" if v.key in allowed else ""
        lines.append(f"{v}{note}")
    return "\n".join(lines)


# -- the contract on src/respond -----------------------------------------------------------


@pytest.fixture(scope="module")
def found() -> list[Violation]:
    return Checker(SRC).violations()


def test_import_layers(found: list[Violation]) -> None:
    print(_report(found, ALLOWED))
    new = [v for v in found if v.key not in ALLOWED]
    assert not new, "import-layer violations:\n" + _report(new, {})


def test_allow_list_is_current(found: list[Violation]) -> None:
    stale = set(ALLOWED) - {v.key for v in found}
    assert not stale, "allow-list entries that no longer match; remove them:\n" + "\n".join(
        f"{m} → {i}: {r}" for m, i, r in sorted(stale)
    )


def test_every_module_is_in_a_layer() -> None:
    checker = Checker(SRC)
    unplaced = [m for m in checker.modules if checker.entry_of(m) is None]
    assert not unplaced, f"add these to a layer in LAYERS: {unplaced}"


# -- the checker catches what it should ------------------------------------------------------


def _violations(root: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return [str(v) for v in Checker(root).violations()]


def test_checker_catches_an_upward_import(tmp_path: Path) -> None:
    got = _violations(
        tmp_path,
        {
            "respond/__init__.py": "",
            "respond/__main__.py": "from respond.cli import main\n",  # the one way into cli
            "respond/cli/__init__.py": "from respond.engine import run\n",  # downward: fine
            "respond/engine/__init__.py": "",
            "respond/engine/run.py": "",
            "respond/errors.py": "",
            "respond/results.py": "from respond import errors\n",  # leaf → leaf: fine
            "respond/timeline/__init__.py": "",
            "respond/timeline/store.py": "import respond.cli\n",
            "respond/runbook/__init__.py": "",
            "respond/runbook/loader.py": (
                "def load():\n"
                "    from ..engine import run\n"  # inside a function, relative: still counts
                "    return run\n"
            ),
        },
    )
    assert got == [
        "respond.runbook.loader → respond.engine.run (line 2): "
        "upward import (respond.runbook is below respond.engine)",
        "respond.timeline.store → respond.cli (line 1): "
        "upward import (respond.timeline is below respond.cli)",
    ]


def test_checker_catches_a_private_module_of_another_package(tmp_path: Path) -> None:
    got = _violations(
        tmp_path,
        {
            "respond/__init__.py": "",
            "respond/cli/__init__.py": "import respond.executors._output\n",
            "respond/executors/__init__.py": "from respond.executors import _output\n",  # own
            "respond/executors/_output.py": "",
            "respond/executors/ssh.py": "from respond.executors._output import clip\n",  # own
            "respond/engine/__init__.py": "from respond.executors import _output\n",
        },
    )
    assert got == [
        "respond.cli → respond.executors._output (line 1): private module of respond.executors",
        "respond.engine → respond.executors._output (line 1): private module of respond.executors",
    ]


def test_checker_catches_siblings_third_party_and_unknown_packages(tmp_path: Path) -> None:
    got = _violations(
        tmp_path,
        {
            "respond/__init__.py": "",
            "respond/engine/__init__.py": (
                "from __future__ import annotations\n"
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from respond.cli import App\n"  # for the type checker only: fine
                "    import paramiko\n"
                "else:\n"
                "    import respond.lab\n"  # engine and lab are independent (line 7)
            ),
            "respond/cli/__init__.py": "",
            "respond/lab/__init__.py": "import paramiko\n",  # the lab may
            "respond/inventory/__init__.py": "",
            "respond/runbook/__init__.py": "",
            "respond/runbook/model.py": "import pydantic\n",  # the one module that may
            "respond/runbook/loader.py": (
                "import pydantic.fields\n"  # (line 1)
                "try:\n"
                "    from respond.inventory import load\n"  # sibling, inside try (line 3)
                "except ImportError:\n"
                "    from respond.widgets import load\n"  # no such layer (line 5)
            ),
        },
    )
    assert got == [
        "respond.engine → respond.lab (line 7): "
        "sibling import (respond.engine and respond.lab are independent, same layer)",
        "respond.runbook.loader → pydantic.fields (line 1): "
        "pydantic is imported only by respond.runbook.model, respond.drills.model, "
        "respond.inspections.model",
        "respond.runbook.loader → respond.inventory (line 3): "
        "sibling import (respond.runbook and respond.inventory are independent, same layer)",
        "respond.runbook.loader → respond.widgets (line 5): respond.widgets is in no layer",
    ]
