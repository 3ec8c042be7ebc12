"""The harmless commands a lab host offers besides its simulated tools, each one checked.

A lab host's PATH is one directory of wrappers (:func:`respond.lab.files.write_bin`). The
commands below run the machine's real program after a check of their arguments:

- every file operand (and every option value that names a file) must resolve, symlinks
  followed, inside the host's own tree ``RESPOND_LAB_HOST_DIR`` (or be ``/dev/null``, ``-``);
  anything else gets the real tool's ``NAME: PATH: No such file or directory``;
- options that run other programs or write elsewhere are refused (``sort
  --compress-program``, ``tar --to-command``/``-I``/``-F``, ``sed -i``, ``date -s``…);
- ``awk`` programs may not call ``system()``, ``getline``, pipes or redirect output (the
  machine's awk may be mawk, which has no sandbox mode); ``sed`` runs with ``--sandbox``;
- ``cat`` also serves the lab's own ``/proc/mdstat``, ``/proc/loadavg`` and ``/proc/meminfo``
  (generated from the lab state by :mod:`respond.lab.hoststats`); no other path outside the
  host's tree, so ``/proc/self/environ`` or ``/proc/1/cmdline`` stay "No such file";
- ``sh -c LINE`` and ``sudo CMD`` run in the same restricted shell (:mod:`respond.lab.shell`);
  ``env`` only prints the environment; ``lab-python`` runs only Ansible's module files.

Stdlib only and kept small: every call costs one interpreter start (``toolrun.py``).
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# command → (options taking a value that is not a file, options taking a file, refused options)
Spec = tuple[frozenset[str], frozenset[str], frozenset[str]]


def _spec(values: str = "", files: str = "", refused: str = "") -> Spec:
    return (frozenset(values.split()), frozenset(files.split()), frozenset(refused.split()))


FILE_COMMANDS: dict[str, Spec] = {
    "cat": _spec(),
    "head": _spec("-n -c --lines --bytes"),
    "tail": _spec("-n -c --lines --bytes -s --sleep-interval --pid"),
    "wc": _spec(files="--files0-from"),
    "sort": _spec(
        "-k -t -S --key --field-separator --buffer-size --parallel",
        "-o -T --output --temporary-directory --files0-from --random-source",
        "--compress-program",
    ),
    "uniq": _spec("-f -s -w --skip-fields --skip-chars --check-chars"),
    "cut": _spec("-d -f -c -b --delimiter --fields --characters --bytes --output-delimiter"),
    "grep": _spec(
        "-e -m -A -B -C -d -D --regexp --max-count --after-context --before-context --context "
        "--color --colour --label",
        "-f --file --exclude-from",
    ),
    "ls": _spec("-I -w -T --ignore --width --tabsize --format --sort --time --color"),
    "mkdir": _spec("-m --mode"),
    "rmdir": _spec(),
    "touch": _spec("-d -t --date", "-r --reference"),
    "rm": _spec(),
    "cp": _spec("-S --suffix", "-t --target-directory"),
    "mv": _spec("-S --suffix", "-t --target-directory"),
    "chmod": _spec(files="--reference"),
    "tar": _spec(
        "--exclude --transform --owner --group --mode --mtime -b --blocking-factor",
        "-f -C --file --directory -T --files-from -X --exclude-from",
        "-I -F -M --use-compress-program --to-command --checkpoint-action --info-script "
        "--new-volume-script --rsh-command --rmt-command --multi-volume -g --listed-incremental",
    ),
    "gzip": _spec("-S --suffix"),
    "gunzip": _spec("-S --suffix"),
    "sha256sum": _spec(),
    "md5sum": _spec(),
    "tee": _spec(),
    "awk": _spec("-F -v", refused="-f --file -E --exec"),
    "sed": _spec("-e -l --expression --line-length", "-f --file", "-i --in-place"),
    "date": _spec("-d --date", "-f -r --file --reference", "-s --set"),
    "stat": _spec("-c --format --printf"),
}
# the first operand is a program, pattern or mode, not a file (unless given by an option)
PROGRAM_FIRST = {"grep": "-e -f --regexp --file", "awk": "", "sed": "-e -f --expression --file"}
MODE_FIRST = {"chmod"}
NO_FILE_OPERANDS = {"date"}  # its operand is +FORMAT
EXIT_BAD = {"ls": 2, "grep": 2, "sort": 2, "tar": 2, "awk": 2, "sed": 4}
REMOVERS = {"rm", "rmdir", "mv"}
DEVICES = {"/dev/null", "/dev/stdin", "/dev/stdout", "/dev/stderr", "-"}
SYSTEM_DIRS = ("/usr/bin", "/bin", "/usr/sbin", "/sbin")


class Refused(Exception):
    """A command line this lab host does not run: message for stderr and the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def host_dir() -> str:
    root = os.environ.get("RESPOND_LAB_HOST_DIR") or ""
    if not root:
        raise Refused("lab: RESPOND_LAB_HOST_DIR is not set", 126)
    return os.path.realpath(root)


def inside(path: str, root: str) -> bool:
    if path in DEVICES or path.startswith("/dev/fd/"):  # an open descriptor, as in >(cmd)
        return True
    full = os.path.realpath(os.path.join(os.getcwd(), path))
    return full == root or full.startswith(root + os.sep)


def real_program(name: str) -> str:
    for directory in SYSTEM_DIRS:
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise Refused(f"{name}: command not found", 127)


def _check_file(name: str, path: str, root: str) -> None:
    if not inside(path, root):
        raise Refused(f"{name}: {path}: No such file or directory", EXIT_BAD.get(name, 1))
    if name in REMOVERS and os.path.realpath(os.path.join(os.getcwd(), path)) == root:
        # the host's root: like `rm -rf /`, refused (the host would have no home left)
        raise Refused(f"{name}: it is dangerous to operate recursively on '{path}'", 1)


def _option(arg: str, spec: Spec) -> tuple[str, str | None, bool]:
    """(option, attached value or None, takes a value)."""
    values, files, _ = spec
    if arg.startswith("--"):
        opt, eq, value = arg.partition("=")
        return opt, (value if eq else None), opt in values or opt in files
    for i, letter in enumerate(arg[1:], start=1):
        opt = "-" + letter
        if opt in values or opt in files:
            rest = arg[i + 1 :]
            return opt, (rest or None), True
    return arg, None, False


def _refuse_option(name: str, arg: str, spec: Spec) -> None:
    refused = spec[2]
    opt = arg.partition("=")[0]
    letters = [] if arg.startswith("--") else ["-" + c for c in arg[1:]]
    for candidate in [opt, *letters]:
        if candidate in refused:
            raise Refused(
                f"{name}: option {candidate} is not available on a lab host", EXIT_BAD.get(name, 1)
            )


def check_args(name: str, args: list[str]) -> list[str]:
    """Check a file command's arguments; return its operands (after options)."""
    spec = FILE_COMMANDS[name]
    root = host_dir()
    operands: list[str] = []
    program_given = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            operands += args[i + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            operands.append(arg)
            i += 1
            continue
        _refuse_option(name, arg, spec)
        opt, value, takes = _option(arg, spec)
        if takes and value is None and i + 1 < len(args):
            i += 1
            value = args[i]
        if opt in PROGRAM_FIRST.get(name, "").split():
            program_given = True
        if value is not None and opt in spec[1]:
            _check_file(name, value, root)
        i += 1
    files = operands
    if (name in PROGRAM_FIRST and not program_given) or name in MODE_FIRST:
        files = operands[1:]
    if name in NO_FILE_OPERANDS:
        files = []
    for path in files:
        _check_file(name, path, root)
    return operands


# ------------------------------------------------------------------ special commands

_AWK_STRING = r'"(?:\\.|[^"\\])*"'
_AWK_REGEX = r"(?:(?<=^)|(?<=[\s(,~!{;&|]))/(?:\\.|[^/\\\n])*/"


def check_awk_program(program: str) -> None:
    import re

    code = re.sub(_AWK_REGEX, "//", re.sub(_AWK_STRING, '""', program))
    if (
        re.search(r"\bsystem\s*\(|\bgetline\b", code)
        or re.search(r"(?<!\|)\|(?!\|)", code)
        or re.search(r"\bprintf?\b[^;{}\n]*>", code)
    ):
        raise Refused(
            "awk: system(), getline, pipes and output redirection are not available on a lab host",
            2,
        )


def _awk(args: list[str]) -> list[str]:
    operands = check_args("awk", args)
    if operands:
        check_awk_program(operands[0])
    return args


def _tar(args: list[str]) -> list[str]:
    if args and not args[0].startswith("-"):
        args = ["-" + args[0], *args[1:]]  # the old bundled form: `tar czf A.tgz dir`
    if "--ignore-failed-read" in args:
        args = _drop_unreadable(args)
    check_args("tar", args)
    return ["--force-local", *args]  # an archive name with ':' is a file, never a remote host


def _drop_unreadable(args: list[str]) -> list[str]:
    """Like tar does for files it cannot read: warn about outside operands, leave them out."""
    root = host_dir()
    spec = FILE_COMMANDS["tar"]
    kept: list[str] = []
    expect_value = False
    for arg in args:
        if expect_value:
            kept.append(arg)
            expect_value = False
            continue
        if arg.startswith("-") and arg != "-":
            kept.append(arg)
            _, value, takes = _option(arg, spec)
            expect_value = takes and value is None
            continue
        if inside(arg, root):
            kept.append(arg)
        else:
            sys.stderr.write(f"tar: {arg}: Cannot stat: No such file or directory\n")
    return kept


def _dd(args: list[str]) -> list[str]:
    root = host_dir()
    for arg in args:
        key, _, value = arg.partition("=")
        if key in ("if", "of"):
            _check_file("dd", value, root)
    return args


def _env(args: list[str]) -> int:
    if args:
        raise Refused("env: running commands through env is not available on a lab host", 126)
    for key, value in sorted(os.environ.items()):
        sys.stdout.write(f"{key}={value}\n")
    return 0


def _bash() -> str:
    return real_program("bash")


def _sh(args: list[str]) -> int:
    from respond.lab import shell

    if len(args) >= 2 and args[0] == "-c":
        argv = shell.exec_argv(_bash(), args[1], os.environ.get("USER", ""))
        os.execv(argv[0], [*argv[:-1], *(args[2:] or ["sh"])])
    raise Refused("sh: only `sh -c COMMAND` is available on a lab host", 2)


_SUDO_VALUE_OPTIONS = {"-u", "-g", "-p", "-C", "-r", "-t", "-U", "-D", "-T", "-h"}


def _sudo(args: list[str]) -> int:
    """The lab's sudo: everyone may; the command runs in the same restricted shell."""
    from respond.lab import shell

    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt == "--":
            break
        if opt in _SUDO_VALUE_OPTIONS and args:
            args.pop(0)
    if not args:
        return 0
    argv = shell.exec_argv(_bash(), '"$@"', os.environ.get("USER", ""))
    os.execv(argv[0], [*argv[:-1], "sudo", *args])
    return 126


def _lab_python(args: list[str]) -> int:
    """Ansible's module files only (``ansible_python_interpreter`` of the lab's hosts)."""
    root = host_dir()
    script = args[0] if args else ""
    base = os.path.basename(script)
    ansible_tmp = os.path.join(root, ".ansible", "tmp") + os.sep
    module = base.startswith("AnsiballZ_") or base == "async_wrapper.py"
    full = os.path.realpath(os.path.join(os.getcwd(), script)) if script else ""
    if not (module and base.endswith(".py") and full.startswith(ansible_tmp)):
        raise Refused("lab-python: only Ansible's modules run on a lab host", 126)
    os.execv(sys.executable, [sys.executable, full, *args[1:]])
    return 126


def _virtual(path: str) -> str | None:
    """The lab's /proc file ``path`` names (``/proc//mdstat`` too), or None."""
    from respond.lab.hoststats import VIRTUAL_PROC

    normal = os.path.normpath(path) if path.startswith("/") else ""
    return normal if normal in VIRTUAL_PROC else None


def _cat(args: list[str]) -> int:
    """The real ``cat``, unless an operand is one of the lab's /proc files: then the operands
    are written here, in order, as cat would (a missing one is reported, the rest still go)."""
    if not any(_virtual(a) for a in args):
        check_args("cat", args)
        os.execv(real_program("cat"), ["cat", *args])
    options = [a for a in args if a.startswith("-") and a != "-"]
    if options:
        raise Refused(
            f"cat: option {options[0]} is not available with /proc files on a lab host", 1
        )
    root = host_dir()
    code = 0
    for path in args:
        try:
            data = _read_operand(path, root)
        except OSError as exc:
            sys.stdout.flush()
            sys.stderr.write(f"cat: {path}: {exc.strerror or 'No such file or directory'}\n")
            code = 1
            continue
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return code


def _read_operand(path: str, root: str) -> bytes:
    virtual = _virtual(path)
    if virtual is not None:
        return _proc_text(virtual).encode()
    if path in DEVICES or not inside(path, root):  # no stdin here: nothing reads it
        raise FileNotFoundError(2, "No such file or directory")
    with open(path, "rb") as fh:
        return fh.read()


def _proc_text(path: str) -> str:
    from respond.lab import hoststats, topology
    from respond.lab.state import LabStateMissing, StateFile

    state_path = os.environ.get("RESPOND_LAB_STATE") or ""
    host = os.environ.get("LAB_HOST") or ""
    if not state_path or not host:
        raise FileNotFoundError(2, "No such file or directory")
    try:
        state = StateFile(state_path).read()
    except LabStateMissing:
        raise FileNotFoundError(2, "No such file or directory") from None
    topo = topology.for_state(state)
    if host not in topo.servers:
        raise FileNotFoundError(2, "No such file or directory")
    return hoststats.proc_file(path, state, topo, host, time.time())


SPECIAL: dict[str, Callable[[list[str]], int]] = {
    "cat": _cat,
    "env": _env,
    "sh": _sh,
    "bash": _sh,
    "sudo": _sudo,
    "lab-python": _lab_python,
}
REWRITE: dict[str, Callable[[list[str]], list[str]]] = {"awk": _awk, "tar": _tar, "dd": _dd}
COMMANDS = tuple(sorted({*FILE_COMMANDS, *SPECIAL, *REWRITE}))


def run(name: str, args: list[str]) -> int:
    if name in SPECIAL:
        return SPECIAL[name](args)
    if name in REWRITE:
        args = REWRITE[name](args)
    else:
        check_args(name, args)
    if name == "sed":
        args = ["--sandbox", *args]
    program = real_program(name)
    os.execv(program, [name, *args])
    return 126


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        sys.stderr.write(f"usage: safecmd COMMAND [ARGS...]  (commands: {', '.join(COMMANDS)})\n")
        return 2
    try:
        return run(argv[0], argv[1:])
    except Refused as exc:
        sys.stderr.write(f"{exc}\n")
        return exc.code
