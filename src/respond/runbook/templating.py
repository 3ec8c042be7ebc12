"""Templates: Jinja2 in a sandbox, undefined names are errors, values are data, never code.

Three ways to render (RELIABILITY rule 4 and 5):

- ``render_text`` for messages, prompts, URLs: plain sandboxed rendering.
- ``render_command`` for shell command lines: the result of every ``{{ expr }}`` passes
  through ``shlex.quote`` (Jinja's ``finalize`` hook), so a param ``x; touch /tmp/owned``
  stays one argument. ``{{ '2>&1' | raw }}`` keeps a *runbook literal* unquoted; applying
  ``raw`` to anything but a literal is refused when the template is compiled.
- ``render_device_line`` for network-device CLI lines: values with a newline or another
  control character are refused (one value must never become two device commands).

Compiled templates and expressions are cached per ``Templates`` instance. A text without
template syntax (no ``{{``, ``{%`` or ``{#``) renders without Jinja2, to exactly what
Jinja2 makes of it (its line breaks as ``\n``, less one trailing line break), so a runbook
without templates never imports Jinja2 and a plain field costs nothing per host.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from respond.errors import Issue, Location, TemplateError

if TYPE_CHECKING:
    import jinja2
    from jinja2 import nodes
    from jinja2.sandbox import SandboxedEnvironment


def _jinja() -> Any:
    import jinja2

    return jinja2


_CONTROL = {chr(c) for c in range(32)} | {"\x7f"}


class Raw(str):
    """Marks a runbook literal that goes into a command unquoted.

    Only the ``raw`` filter makes one (``Raw.literal``). Anything else that builds a string
    from a Raw gives a plain ``str``, which is quoted: Python's own str methods and
    operators already return ``str`` for a subclass, and the sandbox, which formats
    through ``type(s)(result)`` (``('{}'|raw).format(param)``), gets a plain ``str`` from
    ``Raw(...)`` itself."""

    __slots__ = ()

    def __new__(cls, value: object = "") -> Any:
        return str(value)

    @classmethod
    def literal(cls, value: object) -> Raw:
        return str.__new__(cls, value)

    def __mod__(self, values: Any) -> str:
        # ``'{a}' % {...}`` (nothing to format) gives back the very same object
        return str(str.__mod__(self, values))


def _raw(value: Any) -> Raw:
    return Raw.literal(value)


def _quote(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, _jinja().Undefined):
        str(value)  # StrictUndefined raises here with the name
    if isinstance(value, list | tuple):  # a list param: one quoted word per item
        return " ".join(shlex.quote(_text(item)) for item in value)
    return shlex.quote(_text(value))


_NO_DEFAULT: Any = object()


def _strict_int(value: Any, default: Any = _NO_DEFAULT, base: int = 10) -> Any:
    """``int`` that fails on anything but a number (Jinja's own gives 0 for
    ``'ERROR: could not connect'``, which turned a failed probe into a passing check);
    a default the author writes, ``int(default=0)`` or ``int(0)``, is honoured."""
    try:
        if isinstance(value, str):
            text = value.strip()
            try:
                return int(text, base)
            except ValueError:
                return int(float(text))
        if isinstance(value, int | float):
            return int(value)
    except (ValueError, OverflowError):
        pass
    if default is not _NO_DEFAULT:
        return default
    raise ValueError(f"int: cannot convert {_shown(value)} to an integer")


def _strict_float(value: Any, default: Any = _NO_DEFAULT) -> Any:
    """``float`` that fails on anything but a number; see ``_strict_int``."""
    try:
        if isinstance(value, str):
            return float(value.strip())
        if isinstance(value, int | float):
            return float(value)
    except ValueError:
        pass
    if default is not _NO_DEFAULT:
        return default
    raise ValueError(f"float: cannot convert {_shown(value)} to a number")


def _shown(value: Any) -> str:
    # surrounding whitespace is not why a conversion fails (int() ignores it): not shown
    text = repr(value.strip() if isinstance(value, str) else value)
    return text if len(text) <= 80 else text[:77] + "..."


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _DeviceValueError(ValueError):
    pass


def _device_value(value: Any) -> str:
    if isinstance(value, _jinja().Undefined):
        str(value)
    text = _text(value)
    bad = next((ch for ch in text if ch in _CONTROL and ch != "\t"), None)
    if bad is not None or "\t" in text:
        shown = repr(bad or "\t")
        raise _DeviceValueError(
            f"value {text[:40]!r} contains a control character ({shown}); "
            "device CLI lines accept no newlines or control characters"
        )
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, _jinja().Undefined):
        str(value)
    return "" if value is None else value


def _make_env(root: Path | None, finalize: Any, project: Mapping[str, Any]) -> SandboxedEnvironment:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    loader = jinja2.FileSystemLoader(str(root)) if root is not None else None
    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        loader=loader,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["raw"] = _raw
    env.filters["quote"] = lambda v: shlex.quote(_text(v))
    env.filters["regex_search"] = _regex_search
    env.filters["regex_findall"] = _regex_findall
    env.filters["regex_replace"] = _regex_replace
    env.filters["int"] = _strict_int
    env.filters["float"] = _strict_float
    env.tests.update(RESULT_TESTS)
    env.filters.update(project)
    return env


def builtin_filters() -> frozenset[str]:
    """The names of the filters every runbook has, before the project's own."""
    return frozenset(_make_env(None, _plain, {}).filters)


def _result_test(key: str) -> Any:
    """A Jinja test over a step result, as Ansible has them: ``ups is failed``."""

    def test(value: Any) -> bool:
        if isinstance(value, _jinja().Undefined):
            str(value)  # StrictUndefined raises here with the name
        if not isinstance(value, Mapping):
            raise TypeError(f"the test {key!r} applies to a step result, not to {value!r}")
        return bool(value.get(key))

    return test


# `R is failed`, `R is skipped`, `R is succeeded` (every host ok) on a registered result R
RESULT_TESTS = {
    "failed": _result_test("failed"),
    "skipped": _result_test("skipped"),
    "succeeded": _result_test("ok"),
}

_REGEX_INPUT_LIMIT = 1 << 20  # patterns come from runbooks; inputs are capped, not trusted


def _regex_search(value: Any, pattern: str, ignorecase: bool = False) -> str:
    """The first match of ``pattern`` (its first group, if it has one), or ``""``.

    ``{{ ups.stdout | regex_search('ups.status: *(.*)') }}`` → ``OB DISCHRG``."""
    flags = re.MULTILINE | (re.IGNORECASE if ignorecase else 0)
    match = re.search(pattern, str(value)[:_REGEX_INPUT_LIMIT], flags)
    if match is None:
        return ""
    return match.group(1) if match.re.groups else match.group(0)


def _regex_findall(value: Any, pattern: str, ignorecase: bool = False) -> list[Any]:
    flags = re.MULTILINE | (re.IGNORECASE if ignorecase else 0)
    return re.findall(pattern, str(value)[:_REGEX_INPUT_LIMIT], flags)


def _regex_replace(
    value: Any, pattern: str, replacement: str = "", ignorecase: bool = False
) -> str:
    flags = re.MULTILINE | (re.IGNORECASE if ignorecase else 0)
    return re.sub(pattern, replacement, str(value)[:_REGEX_INPUT_LIMIT], flags=flags)


def _raw_misuse(ast: nodes.Template) -> str | None:
    from jinja2 import nodes

    for flt in ast.find_all(nodes.Filter):
        if flt.name == "raw" and not isinstance(flt.node, nodes.Const):
            return "the 'raw' filter applies only to a literal written in the runbook, e.g. {{ '2>&1' | raw }}"
    return None


_FINALIZE = {"text": _plain, "command": _quote, "device": _device_value}


class Templates:
    """A sandboxed Jinja2 environment with StrictUndefined, confined to ``root``; the
    project's filters (``root/filters/*.py``, ``respond.runbook.filters``) are added to
    Jinja's and respond's own. ``filters`` gives them instead of loading them."""

    def __init__(
        self, root: Path | None = None, *, filters: Mapping[str, Any] | None = None
    ) -> None:
        self.root = root
        self._project_filters = filters
        self._envs: dict[str, SandboxedEnvironment] = {}
        self._cache: dict[tuple[str, str], jinja2.Template] = {}
        self._expr_cache: dict[str, Any] = {}
        self._names_cache: dict[tuple[str, bool, str], frozenset[str] | TemplateError] = {}

    # -- environments, made on first use ------------------------------------------------------
    def _env(self, mode: str) -> SandboxedEnvironment:
        env = self._envs.get(mode)
        if env is None:
            env = self._envs[mode] = _make_env(self.root, _FINALIZE[mode], self.project_filters)
        return env

    @property
    def project_filters(self) -> Mapping[str, Any]:
        """The project's own filters; raise ``FiltersInvalid`` when they cannot load."""
        if self._project_filters is None:
            from respond.runbook.filters import project_filters

            self._project_filters = project_filters(self.root)
        return self._project_filters

    @property
    def env(self) -> SandboxedEnvironment:
        """The environment of plain text (its globals, filters and tests are every mode's)."""
        return self._env("text")

    # -- compiling ---------------------------------------------------------------------------
    def _template(self, mode: str, source: str, location: Location | None) -> jinja2.Template:
        key = (mode, source)
        template = self._cache.get(key)
        if template is None:
            env = self._env(mode)
            try:
                ast = env.parse(source)
                if mode == "command":
                    misuse = _raw_misuse(ast)
                    if misuse:
                        raise TemplateError(misuse, [Issue(misuse, location)])
                template = env.from_string(source)
            except _jinja().TemplateSyntaxError as exc:
                raise _error(exc, location) from None
            self._cache[key] = template
        return template

    def _expression(self, expression: str, location: Location | None) -> Any:
        compiled = self._expr_cache.get(expression)
        if compiled is None:
            try:
                compiled = self.env.compile_expression(expression, undefined_to_none=False)
            except _jinja().TemplateSyntaxError as exc:
                raise _error(exc, location, expression=True) from None
            self._expr_cache[expression] = compiled
        return compiled

    # -- rendering ---------------------------------------------------------------------------
    def render_text(
        self, template: str, variables: Mapping[str, Any], location: Location | None = None
    ) -> str:
        return self._render("text", template, variables, location)

    def render_command(
        self, template: str, variables: Mapping[str, Any], location: Location | None = None
    ) -> str:
        """Render a shell command line; every ``{{ expr }}`` result is ``shlex.quote``-d."""
        return self._render("command", template, variables, location)

    def render_device_line(
        self, template: str, variables: Mapping[str, Any], location: Location | None = None
    ) -> str:
        """Render one network-device CLI line; refuse newlines and control characters."""
        line = self._render("device", template, variables, location)
        if "\n" in line or "\r" in line:
            msg = "a device CLI line may not contain a line break"
            raise TemplateError(msg, [Issue(msg, location)])
        return line

    def render_argv(
        self, items: Sequence[str], variables: Mapping[str, Any], location: Location | None = None
    ) -> list[str]:
        """Render argv items as text; an item that is exactly ``{{ expr }}`` whose value is
        a list (a list param) becomes one item per element."""
        out: list[str] = []
        for item in items:
            whole = _WHOLE_EXPRESSION.fullmatch(item)
            if whole is not None:
                value = self.evaluate(whole.group(1), variables, location)
                if isinstance(value, list | tuple):
                    out.extend(_text(v) for v in value)
                    continue
            out.append(self.render_text(item, variables, location))
        return out

    def evaluate(
        self, expression: str, variables: Mapping[str, Any], location: Location | None = None
    ) -> Any:
        """Evaluate a Jinja expression (``when``, ``expect.that``); undefined names are errors."""
        compiled = self._expression(expression, location)
        jinja2 = _jinja()
        try:
            value = compiled(**dict(variables))
            if isinstance(value, jinja2.Undefined):
                value._fail_with_undefined_error()
        except jinja2.TemplateError as exc:
            raise _error(exc, location, expression=True) from None
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            msg = f"cannot evaluate {expression!r}: {exc}"
            raise TemplateError(msg, [Issue(msg, location)]) from None
        return value

    def render_value(
        self, value: Any, variables: Mapping[str, Any], location: Location | None = None
    ) -> Any:
        """Render every string inside dicts and lists as text (once); other values pass through."""
        if isinstance(value, str):
            return self.render_text(value, variables, location) if has_template(value) else value
        if isinstance(value, Mapping):
            return {k: self.render_value(v, variables, location) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.render_value(v, variables, location) for v in value]
        return value

    def _render(
        self,
        mode: str,
        source: str,
        variables: Mapping[str, Any],
        location: Location | None,
    ) -> str:
        if not has_template(source):
            return _as_jinja_renders_text(source)
        template = self._template(mode, source, location)
        jinja2 = _jinja()
        try:
            return template.render(variables)
        except _DeviceValueError as exc:
            raise TemplateError(str(exc), [Issue(str(exc), location)]) from None
        except jinja2.TemplateError as exc:
            raise _error(exc, location) from None
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            msg = f"cannot render template: {exc}"
            raise TemplateError(msg, [Issue(msg, location)]) from None

    # -- static checks (used by validation) ----------------------------------------------------
    def template_names(
        self, source: str, *, command: bool = False, filters: bool = True
    ) -> set[str]:
        """Names a template reads from its variables; raise TemplateError on syntax errors
        (and, with ``filters``, on filters and tests these templates do not have)."""
        if not filters:
            return self._names(("u", command, source), self._unchecked_names)
        return self._names(("t", command, source), self._template_names)

    def _unchecked_names(self, source: str, _: bool) -> set[str]:
        try:
            return _free_names(self.env.parse(source))
        except _jinja().TemplateSyntaxError as exc:
            raise _error(exc, None) from None

    def expression_names(self, expression: str) -> set[str]:
        """Names an expression reads; raise TemplateError on syntax errors."""
        return self._names(("e", False, expression), self._expression_names)

    def _names(self, key: tuple[str, bool, str], compute: Any) -> set[str]:
        found = self._names_cache.get(key)
        if found is None:
            try:
                found = frozenset(compute(key[2], key[1]))
            except TemplateError as exc:
                found = exc
            self._names_cache[key] = found
        if isinstance(found, TemplateError):
            raise TemplateError(found.message, list(found.issues))
        return set(found)

    def secret_misuse(self, source: str, secrets: frozenset[str]) -> list[str]:
        """Ways the template transforms a secret param that masking cannot follow."""
        if not secrets or not has_template(source):
            return []
        try:
            ast = self.env.parse(source)
        except _jinja().TemplateSyntaxError:
            return []  # reported as a syntax error by template_names
        return secret_misuse(ast, secrets)

    def compared_words(
        self, source: str, names: Collection[str], *, expression: bool
    ) -> list[Comparison]:
        """Where the template or expression compares ``R.KEY`` (R one of ``names``) with
        literal words: ``R.KEY == 'w'``, ``!=``, ``R.KEY in ['a', 'b']``, ``'w' in R.KEY``.
        A template with a syntax error compares nothing (validation reports the error)."""
        from jinja2 import nodes

        try:
            parsed = self.env.parse("{{ " + source + " }}" if expression else source)
        except _jinja().TemplateSyntaxError:
            return []  # reported where the names are checked
        found: list[Comparison] = []
        for compare in parsed.find_all(nodes.Compare):
            left = compare.expr
            for operand in compare.ops:
                found += _compared(left, operand.op, operand.expr, frozenset(names))
                left = operand.expr
        return found

    def _template_names(self, source: str, command: bool) -> set[str]:
        try:
            ast = self.env.parse(source)
        except _jinja().TemplateSyntaxError as exc:
            raise _error(exc, None) from None
        if command:
            misuse = _raw_misuse(ast)
            if misuse:
                raise TemplateError(misuse, [Issue(misuse)])
        self._check_filters(ast)
        return _free_names(ast)

    def _expression_names(self, expression: str, _: bool) -> set[str]:
        import jinja2
        from jinja2 import nodes
        from jinja2.parser import Parser

        try:
            parser = Parser(self.env, expression, state="variable")
            expr = parser.parse_expression()
            if not parser.stream.eos:
                raise jinja2.TemplateSyntaxError(
                    "chunk after expression", parser.stream.current.lineno, None, None
                )
        except jinja2.TemplateSyntaxError as exc:
            raise _error(exc, None, expression=True) from None
        ast = nodes.Template([nodes.Output([expr])], lineno=1)
        ast.set_environment(self.env)
        self._check_filters(ast)
        return _free_names(ast)

    def _check_filters(self, ast: nodes.Template) -> None:
        from jinja2 import nodes

        for flt in ast.find_all(nodes.Filter):
            if flt.name not in self.env.filters:
                msg = f"no filter named {flt.name!r}"
                raise TemplateError(msg, [Issue(msg)])
        for test in ast.find_all(nodes.Test):
            if test.name not in self.env.tests:
                msg = f"no test named {test.name!r}"
                raise TemplateError(msg, [Issue(msg)])


# What a template may do with a secret param: the masker knows the forms these give
# (respond.secrets.variants), or, for length, the result holds nothing of the secret.
SECRET_FILTERS = frozenset(
    {"quote", "urlencode", "upper", "lower", "title", "capitalize", "tojson", "string"}
    | {"length", "count", "default", "d"}
)
# (node type, field) where a secret is used whole: output, joined, chosen, or only tested
_WHOLE = frozenset(
    {
        ("Output", "nodes"),
        ("Concat", "nodes"),
        ("Add", "left"),
        ("Add", "right"),
        ("Mul", "left"),
        ("Mul", "right"),
        ("CondExpr", "expr1"),
        ("CondExpr", "expr2"),
        ("And", "left"),
        ("And", "right"),
        ("Or", "left"),
        ("Or", "right"),
        ("List", "items"),
        ("Tuple", "items"),
        ("Pair", "value"),
        ("Assign", "node"),
    }
)
# where the value is only tested: nothing of it is output
_TESTED = frozenset(
    {("If", "test"), ("CondExpr", "test"), ("Compare", "expr"), ("Operand", "expr")}
    | {("Test", "node"), ("Not", "node")}
)


def secret_misuse(ast: nodes.Template, secrets: frozenset[str]) -> list[str]:
    """How a template transforms a secret param in a way the masker cannot follow
    (``token | reverse``, ``token[1:]``, ``token.split()``, ``'%.3s' % token``), one
    message each; using it whole, through ``SECRET_FILTERS`` or in a condition is fine."""
    found: list[str] = []
    if secrets:
        _misuse_walk(ast, secrets, found)
    return found


def _secret_ref(node: Any, secrets: frozenset[str]) -> str | None:
    from jinja2 import nodes

    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name in secrets:
        return node.name
    base = getattr(node, "node", None)
    if isinstance(base, nodes.Name) and base.name == "params":
        if isinstance(node, nodes.Getattr) and node.attr in secrets:
            return node.attr
        if (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and node.arg.value in secrets
        ):
            return str(node.arg.value)
    return None


def _misuse_walk(node: Any, secrets: frozenset[str], found: list[str]) -> None:
    from jinja2 import nodes

    kind = type(node).__name__
    for field in node.fields:
        value = getattr(node, field, None)
        children = value if isinstance(value, list) else [value]
        for child in children:
            if not isinstance(child, nodes.Node):
                continue
            name = _secret_ref(child, secrets)
            if name is not None:
                how = _transform(node, field)
                if how is not None:
                    found.append(
                        f"secret param {name!r} is transformed by {how}, so respond could not "
                        "mask the result; use it whole, or through quote, urlencode, upper, "
                        "lower, title, capitalize, tojson, string or length"
                    )
                continue
            if (kind, field) in _TESTED:
                continue  # a condition outputs nothing of what it tests
            _misuse_walk(child, secrets, found)


def _transform(parent: Any, field: str) -> str | None:
    """What ``parent`` does to a secret in its ``field``, or None when it keeps it whole."""
    from jinja2 import nodes

    kind = type(parent).__name__
    if (kind, field) in _WHOLE or (kind, field) in _TESTED:
        return None
    if isinstance(parent, nodes.Filter) and field == "node":
        return None if parent.name in SECRET_FILTERS else f"the filter {parent.name!r}"
    if (
        isinstance(parent, nodes.Filter | nodes.Test)
        and field == "args"
        and parent.name
        in (
            "default",
            "d",
        )
    ):
        return None
    if isinstance(parent, nodes.Getattr):
        return f"its attribute or method {parent.attr!r}"
    if isinstance(parent, nodes.Getitem | nodes.Slice):
        return "an index or slice"
    if isinstance(parent, nodes.Call):
        return "a call that takes it as an argument"
    if isinstance(parent, nodes.Filter):
        return f"the filter {parent.name!r} that takes it as an argument"
    if isinstance(parent, nodes.Mod):
        return "the % operator"
    if isinstance(parent, nodes.For):
        return "a loop over it"
    return f"the expression {kind}"


@dataclass(frozen=True, slots=True)
class Comparison:
    """``name.key`` compared with ``word``: ``member`` when the test is ``'word' in name.key``."""

    name: str
    key: str
    word: str
    member: bool = False


def _compared(left: Any, op: str, right: Any, names: frozenset[str]) -> list[Comparison]:
    """The literal words one comparison ``left OP right`` holds ``R.KEY`` against."""
    if op in ("eq", "ne"):
        for ref, other in ((left, right), (right, left)):
            target = _result_key(ref, names)
            word = _literal_words(other)
            if target is not None and word is not None and len(word) == 1:
                return [Comparison(*target, word[0])]
        return []
    if op not in ("in", "notin"):
        return []
    target = _result_key(left, names)
    words = _literal_words(right, listed=True)
    if target is not None and words is not None:
        return [Comparison(*target, w) for w in words]
    target = _result_key(right, names)
    words = _literal_words(left)
    if target is not None and words is not None and len(words) == 1:
        return [Comparison(*target, words[0], member=True)]
    return []


def _result_key(node: Any, names: frozenset[str]) -> tuple[str, str] | None:
    """``(R, KEY)`` for ``R.KEY`` or ``R['KEY']`` with R one of ``names``."""
    from jinja2 import nodes

    base = getattr(node, "node", None)
    if not (isinstance(base, nodes.Name) and base.name in names):
        return None
    if isinstance(node, nodes.Getattr):
        return base.name, node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return base.name, str(node.arg.value)
    return None


def _literal_words(node: Any, *, listed: bool = False) -> list[str] | None:
    """A string literal as one word, or (``listed``) a list or tuple of string literals."""
    from jinja2 import nodes

    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return None if listed else [node.value]
    if listed and isinstance(node, nodes.List | nodes.Tuple):
        items = node.items
        if all(isinstance(i, nodes.Const) and isinstance(i.value, str) for i in items):
            return [str(getattr(i, "value", "")) for i in items]
    return None


_IMPLICIT = frozenset({"loop", "caller", "varargs", "kwargs", "self", "super"})


def _free_names(ast: nodes.Template) -> set[str]:
    """Names a template reads but does not assign itself.

    A fast, slightly generous stand-in for ``jinja2.meta.find_undeclared_variables`` (which
    runs the code generator): a name assigned anywhere in the template (``for``, ``set``,
    macro arguments) counts as declared everywhere in it. Anything missed here still fails
    at render time through StrictUndefined.
    """
    from jinja2 import nodes

    loaded: set[str] = set()
    stored: set[str] = set()
    for node in ast.find_all(nodes.Name):
        (loaded if node.ctx == "load" else stored).add(node.name)
    for block in ast.find_all((nodes.Macro, nodes.CallBlock)):
        if isinstance(block, nodes.Macro | nodes.CallBlock):  # narrows find_all's Stmt
            stored.update(arg.name for arg in block.args)
        if isinstance(block, nodes.Macro):
            stored.add(block.name)
    return loaded - stored - _IMPLICIT


def has_template(text: str) -> bool:
    """The string holds Jinja markup: its value is known only once rendered."""
    return "{{" in text or "{%" in text or "{#" in text


_WHOLE_EXPRESSION = re.compile(r"\s*\{\{-?\s*((?:(?!\}\}).)+?)\s*-?\}\}\s*", re.DOTALL)
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _as_jinja_renders_text(source: str) -> str:
    """What ``Template(source).render()`` gives for a source without template syntax, with
    this module's settings: line breaks become ``\n`` (``newline_sequence``) and one trailing
    line break goes (``keep_trailing_newline=False``); nothing else changes."""
    lines = _NEWLINE.split(source)
    if lines[-1] == "":
        del lines[-1]
    return "\n".join(lines)


def _error(
    exc: jinja2.TemplateError, location: Location | None, *, expression: bool = False
) -> TemplateError:
    jinja2 = _jinja()
    if isinstance(exc, jinja2.UndefinedError):
        msg = f"undefined name: {exc.message}"
    elif isinstance(exc, jinja2.TemplateSyntaxError):
        what = "expression" if expression else "template"
        msg = f"Jinja {what} syntax error: {exc.message}"
        if exc.lineno and exc.lineno > 1:
            msg += f" (line {exc.lineno} of the {what})"
    elif isinstance(exc, jinja2.exceptions.SecurityError):
        msg = f"refused by the template sandbox: {exc.message or exc}"
    else:
        msg = f"template error: {exc.message or exc}"
    return TemplateError(msg, [Issue(msg, location)])


# ---------------------------------------------------------------------------------------------
# registered results


_RESULT_KEYS = (
    "stdout",
    "stderr",
    "rc",
    "parsed",
    "data",
    "answer",
    "status",
    "body",
    "latency",
)


class Registered(Mapping[str, Any]):
    """A registered step result as templates see it (docs/internals.md).

    ``hosts`` maps host name → that host's result dict, as the engine builds it
    (``respond.engine.expect.result_view``: stdout, stderr, rc, parsed, status, ok, failed,
    skipped, error, ... and http_status, body, json, latency, answer where the kind sets them).
    ``R.stdout`` and the other result keys read the *current* host's result when that host
    ran the step, otherwise the first host's. ``R.ok`` is true when all hosts are ok,
    ``R.failed`` when any failed. While rendering for a host the engine passes the results
    seen from that host (``Registered(hosts, current=host)``).
    """

    __slots__ = ("_current", "_hosts", "_skipped")

    def __init__(
        self,
        hosts: Mapping[str, Mapping[str, Any]],
        current: str | None = None,
        *,
        skipped: bool | None = None,
    ) -> None:
        self._hosts: dict[str, dict[str, Any]] = {
            name: dict(result) for name, result in hosts.items()
        }
        self._current = current
        self._skipped = skipped

    def with_current(self, host: str | None) -> Registered:
        """The same results seen from ``host`` (``R.stdout`` is that host's output)."""
        return Registered(self._hosts, host, skipped=self._skipped)

    # -- the current host's view -------------------------------------------------------------
    def _one(self) -> dict[str, Any]:
        if self._current is not None and self._current in self._hosts:
            return self._hosts[self._current]
        return next(iter(self._hosts.values()), {})

    @property
    def stdout(self) -> Any:
        return self._one().get("stdout", "")

    @property
    def stderr(self) -> Any:
        return self._one().get("stderr", "")

    @property
    def rc(self) -> Any:
        return self._one().get("rc")

    @property
    def parsed(self) -> Any:
        return self._one().get("parsed")

    @property
    def data(self) -> Any:
        """What the step's ``parse:`` made of the output (None without ``parse:``)."""
        return self._one().get("data")

    @property
    def answer(self) -> Any:
        return self._one().get("answer")

    @property
    def status(self) -> Any:
        return self._one().get("status")

    @property
    def body(self) -> Any:
        return self._one().get("body")

    @property
    def latency(self) -> Any:
        return self._one().get("latency")

    # -- across hosts ------------------------------------------------------------------------
    @property
    def hosts(self) -> dict[str, dict[str, Any]]:
        return {name: dict(r) for name, r in self._hosts.items()}

    @property
    def ok_hosts(self) -> list[str]:
        return [name for name, r in self._hosts.items() if r.get("ok", not r.get("failed", False))]

    @property
    def failed_hosts(self) -> list[str]:
        return [name for name, r in self._hosts.items() if r.get("failed", False)]

    @property
    def ok(self) -> bool:
        return bool(self._hosts) and len(self.ok_hosts) == len(self._hosts)

    @property
    def failed(self) -> bool:
        return bool(self.failed_hosts)

    @property
    def skipped(self) -> bool:
        if self._skipped is not None:
            return self._skipped
        return not self._hosts or all(r.get("skipped", False) for r in self._hosts.values())

    # -- Mapping ---------------------------------------------------------------------------------
    _KEYS = (*_RESULT_KEYS, "ok", "failed", "skipped", "hosts", "ok_hosts", "failed_hosts")

    def __getitem__(self, key: str) -> Any:
        if key in self._KEYS:
            return getattr(self, key)
        one = self._one()
        if key in one:  # any other field of the current host's result (http_status, error, ...)
            return one[key]
        if key == "stdout_lines":
            return str(self.stdout or "").splitlines()
        raise KeyError(key)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._KEYS)

    def __len__(self) -> int:
        return len(self._KEYS)

    def __str__(self) -> str:
        return _text(self.stdout)

    def __repr__(self) -> str:
        return f"Registered(hosts={list(self._hosts)!r}, current={self._current!r})"

    def as_dict(self) -> dict[str, Any]:
        """Plain data, e.g. to record or to hand to Ansible as extra vars."""
        return {key: self[key] for key in self._KEYS}
