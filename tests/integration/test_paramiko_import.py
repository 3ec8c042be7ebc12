"""paramiko as the ssh steps import it: without ``invoke`` (and its asyncio and
unittest.mock), yet an ssh_config ``Match exec`` still runs through the real ``invoke``."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_ssh_steps_import_paramiko_without_invoke() -> None:
    out = _python(
        """
        import sys
        from respond.executors._paramiko import paramiko
        assert paramiko.Transport and paramiko.PKey and paramiko.HostKeys
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("invoke", "asyncio")
                       or m == "unittest.mock")
        print(heavy)
        """
    )
    assert out == "[]"


def test_match_exec_still_imports_invoke_when_used() -> None:
    out = _python(
        """
        import sys
        from respond.executors._paramiko import paramiko
        config = paramiko.SSHConfig.from_text(
            'Match exec "true"\\n  User matched\\nHost *\\n  Port 2200\\n'
        )
        print(config.lookup("example")["user"], "invoke" in sys.modules)
        """
    )
    assert out == "matched True"
