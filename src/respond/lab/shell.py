"""How a lab host runs a command line: bash in restricted mode, with only the lab's PATH.

``bash --noprofile --norc -c PRELUDE+COMMAND`` where the prelude opens descriptor 3 on
``/dev/null``, disables the ``kill``/``fc``/``history``/``enable`` builtins, makes PATH, HOME,
the lab's variables and the loader's (``LD_PRELOAD``…) read-only (restricted mode alone still
lets ``PATH=/usr/bin cmd`` run) and then turns on restricted mode (``set -r``), which is
permanent: no ``cd``, no command names with ``/``, no ``exec``, no ``command -p``, no output
redirection to files.
PATH holds only the lab's own directory (the simulated tools and the harmless commands of
:mod:`respond.lab.safecmd`), so everything else is ``NAME: command not found`` (exit 127).

Restricted bash refuses every output redirection to a file, ``/dev/null`` included, while
runbooks write ``2>/dev/null`` and ``>/dev/null 2>&1``: :func:`rewrite` turns exactly those
(outside quotes) into ``>&3`` before bash reads the line. ``2>&1`` and ``>&2`` are allowed as
they are. ``~USER`` for the lab's user becomes ``~`` (the host's own home), as Ansible asks for
``echo ~USER`` to find the remote home. A command of the form ``/bin/sh -c 'LINE'`` (what
Ansible sends) runs LINE the same way.

Stdlib only: the lab's ``sh`` and ``sudo`` wrappers use it on every call.
"""

from __future__ import annotations

import re
import shlex

PRELUDE = (  # one line, so bash's messages say "line 2" for the command's first line
    "exec 3>/dev/null; enable -n kill fc history enable; "
    "readonly PATH SHELL ENV BASH_ENV HOME LAB_HOST RESPOND_LAB_STATE RESPOND_LAB_HOST_DIR "
    "USER LOGNAME TMPDIR LD_PRELOAD LD_LIBRARY_PATH LD_AUDIT; set -r\n"
)
SHELLS = ("/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "sh", "bash")
_NULL_REDIRECT = re.compile(r"(&>>?|[0-9]?>>?)[ \t]*/dev/null(?=$|[\s;&|)])")


def _code_mask(text: str) -> list[bool]:
    """For each character: True where the shell reads it as syntax (not quoted or escaped)."""
    mask = [False] * len(text)
    frames: list[list[int | str]] = [["code", 0]]  # kind, paren depth
    i = 0
    while i < len(text):
        c = text[i]
        kind = frames[-1][0]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if c == "\\":
            i += 2
            continue
        if kind == "dq":
            if c == '"':
                frames.pop()
            elif c == "$" and nxt == "(":
                frames.append(["code", 0])
                i += 1
            i += 1
            continue
        mask[i] = True
        if c == "'":
            end = text.find("'", i + 1)
            i = len(text) if end < 0 else end + 1
            continue
        if c == '"':
            frames.append(["dq", 0])
        elif c == "$" and nxt == "(":
            frames.append(["code", 0])
            i += 1
        elif c == "(":
            frames[-1][1] = int(frames[-1][1]) + 1
        elif c == ")":
            if int(frames[-1][1]) > 0:
                frames[-1][1] = int(frames[-1][1]) - 1
            elif len(frames) > 1:
                frames.pop()
        i += 1
    return mask


def _null_target(op: str) -> str:
    if op.startswith("&"):
        return ">&3 2>&3"
    fd = op.rstrip(">")
    return f"{fd}>&3"


def rewrite(command: str, user: str = "") -> str:
    """``>/dev/null``-style redirections → ``>&3``; ``~USER`` → ``~`` (outside quotes)."""
    mask = _code_mask(command)
    edits = [
        (m.start(), m.end(), _null_target(m.group(1)))
        for m in _NULL_REDIRECT.finditer(command)
        if mask[m.start()]
    ]
    if user:
        home = re.compile(r"(?:^|(?<=[\s;&|(`=:]))~" + re.escape(user) + r"(?=$|[/\s;&|)`:])")
        edits += [(m.start(), m.end(), "~") for m in home.finditer(command) if mask[m.start()]]
    out: list[str] = []
    last = 0
    for start, end, text in sorted(edits):
        if start >= last:
            out += [command[last:start], text]
            last = end
    out.append(command[last:])
    return "".join(out)


def unwrap(command: str) -> str:
    """``/bin/sh -c 'LINE'`` → ``LINE``; anything else as it is."""
    if not command.lstrip().startswith(SHELLS):
        return command
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    if len(words) == 3 and words[0] in SHELLS and words[1] == "-c":
        return words[2]
    return command


def exec_argv(bash: str, command: str, user: str = "") -> list[str]:
    """The argv that runs one command line on a lab host."""
    return [bash, "--noprofile", "--norc", "-c", PRELUDE + rewrite(unwrap(command), user), "bash"]


def interactive_argv(bash: str, rcfile: str) -> list[str]:
    """An interactive restricted shell (a ``shell`` request; ``rcfile`` holds the prelude)."""
    return [bash, "--noprofile", "--rcfile", rcfile, "-i"]


def rcfile_text() -> str:
    """The start-up file of an interactive lab shell: a prompt like a real host's, the prelude."""
    return 'PS1="[$USER@$LAB_HOST ~]\\$ "\n' + PRELUDE
