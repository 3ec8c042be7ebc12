"""The paramiko exceptions netmiko lets through, for the netmiko executor: with these,
paramiko is imported only here and by the ssh executor, and only when called."""

from __future__ import annotations


def connection_errors() -> tuple[type[BaseException], ...]:
    """What a failed or lost SSH connection raises under paramiko (and netmiko over it)."""
    from paramiko import SSHException

    return (OSError, EOFError, SSHException)


def is_host_key_mismatch(exc: BaseException | None) -> bool:
    """True when paramiko refused a host whose key differs from its known_hosts entry."""
    from paramiko import BadHostKeyException

    return isinstance(exc, BadHostKeyException)


def per_address_errors(exc: BaseException | None) -> list[BaseException] | None:
    """The error for each address tried, when paramiko could connect to none of them
    (``NoValidConnectionsError``); None for any other exception."""
    from paramiko.ssh_exception import NoValidConnectionsError

    if isinstance(exc, NoValidConnectionsError):
        return list(exc.errors.values())
    return None
