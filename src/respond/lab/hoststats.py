"""What a lab server's health tools read: CPUs, load, memory, filesystems, inodes, the md mirror,
the clock, as plain numbers derived from the topology and the lab state (its faults).

:mod:`respond.lab.tools` prints them the way ``uptime``, ``free``, ``df``, ``chronyc`` and
``nproc`` do, and the restricted ``cat`` (:mod:`respond.lab.safecmd`) serves them as the
virtual ``/proc/loadavg``, ``/proc/meminfo`` and ``/proc/mdstat``. Stdlib only: it runs inside
every simulated tool call.
"""

from __future__ import annotations

from respond.lab import model

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from respond.lab.topology import Server, Topology

# What the faults set: inspections grade these as CRITICAL with the default thresholds.
HIGH_LOAD_PER_CPU = 5.0
MEMORY_PRESSURE_USED = 0.97
DISK_FULL_USED = 0.93
INODES_EXHAUSTED_USED = 0.96
TIME_DRIFT_SECONDS = 2.5

# device, type, size KiB, used KiB, mount (the root is the md mirror md0 of sda2 + sdb2)
FILESYSTEMS = (
    ("udev", "devtmpfs", 4040152, 0, "/dev"),
    ("tmpfs", "tmpfs", 814964, 1160, "/run"),
    ("/dev/md0", "ext4", 51290592, 12675164, "/"),
    ("tmpfs", "tmpfs", 4074808, 0, "/dev/shm"),
    ("tmpfs", "tmpfs", 5120, 0, "/run/lock"),
    ("/dev/sda1", "vfat", 523248, 5972, "/boot/efi"),
)
DATA_DISK_KIB = 1951845952
RESERVED = 0.05  # ext4's reserved blocks: df's Available leaves them out


class Filesystem:
    """One mounted filesystem as ``df`` sees it (sizes in KiB)."""

    __slots__ = ("device", "fstype", "inodes", "iused", "mount", "size", "used")

    def __init__(
        self, device: str, fstype: str, size: int, used: int, mount: str, inodes: int, iused: int
    ) -> None:
        self.device = device
        self.fstype = fstype
        self.size = size
        self.used = used
        self.mount = mount
        self.inodes = inodes
        self.iused = iused

    @property
    def avail(self) -> int:
        return int(self.size * (1 - RESERVED)) - self.used if self.size else 0


def _seed(host: str) -> int:
    return sum(map(ord, host))


def cpus(server: Server) -> int:
    return {"core": 8, "noncritical": 4}.get(server.group, 2)


def mounts(server: Server) -> list[str]:
    """The mount points a disk-full or inode-exhaustion fault may name."""
    names = ["/", "/boot/efi"]
    return [*names, server.data_mount] if server.data_mount else names


def _inodes(fstype: str, size: int) -> int:
    if fstype == "vfat":
        return 0
    return max(1024, size // 16)  # ext4's default: one inode per 16 KiB


def filesystems(state: dict[str, Any], server: Server, now: float) -> list[Filesystem]:
    seed = _seed(server.name)
    rows = list(FILESYSTEMS)
    if server.data_mount:
        used = int(DATA_DISK_KIB * (0.55 + (seed % 20) / 100))
        rows.append(("/dev/sdb1", "ext4", DATA_DISK_KIB, used, server.data_mount))
    result = []
    for device, fstype, size, used, mount in rows:
        inodes = _inodes(fstype, size)
        iused = 0 if not inodes else min(inodes, 250 + inodes * (4 + seed % 7) // 100)
        target = f"{server.name}:{mount}"
        if model.fault_on(state, "disk-full", target, now):
            used = int(int(size * (1 - RESERVED)) * DISK_FULL_USED)
        if inodes and model.fault_on(state, "inode-exhaustion", target, now):
            iused = int(inodes * INODES_EXHAUSTED_USED)
        result.append(Filesystem(device, fstype, size, used, mount, inodes, iused))
    return result


def loadavg(state: dict[str, Any], topo: Topology, host: str, now: float) -> tuple[float, ...]:
    """The 1-, 5- and 15-minute load averages."""
    if model.fault_on(state, "high-load", host, now):
        base = HIGH_LOAD_PER_CPU * cpus(topo.servers[host]) + (_seed(host) % 9) / 10
        return (base * 1.04, base, base * 0.93)
    load = model.current_load(state, topo, now) / 400 + (_seed(host) % 7) / 100
    return (load, load * 0.9, load * 0.8)


def proc_loadavg(state: dict[str, Any], topo: Topology, host: str, now: float) -> str:
    one, five, fifteen = loadavg(state, topo, host, now)
    running = 1 + int(one)
    tasks = 180 + _seed(host) % 60
    last_pid = 4000 + int(now) % 30000
    return f"{one:.2f} {five:.2f} {fifteen:.2f} {running}/{tasks} {last_pid}\n"


def memory(state: dict[str, Any], topo: Topology, host: str, now: float) -> dict[str, int]:
    """/proc/meminfo's main fields in KiB."""
    server = topo.servers[host]
    total = {"core": 16367504, "noncritical": 8148380}.get(server.group, 2029876)
    seed = _seed(host)
    used_share = 0.32 + (seed % 17) / 100
    if model.fault_on(state, "memory-pressure", host, now):
        used_share = MEMORY_PRESSURE_USED + 0.004
    available = int(total * (1 - used_share))
    buffers = int(min(total * 0.02, available * 0.1))
    cached = int(min(total * 0.25, available * 0.6))
    free = available - cached - buffers // 2
    swap = 2097148
    return {
        "MemTotal": total,
        "MemFree": free,
        "MemAvailable": available,
        "Buffers": buffers,
        "Cached": cached,
        "Shmem": 10240 + seed % 4096,
        "SReclaimable": int(total * 0.015),
        "SwapTotal": swap,
        "SwapFree": swap - (seed % 5) * 1024 - (swap // 3 if used_share > 0.9 else 0),
    }


def proc_meminfo(state: dict[str, Any], topo: Topology, host: str, now: float) -> str:
    mem = memory(state, topo, host, now)
    rows = [
        ("MemTotal", mem["MemTotal"]),
        ("MemFree", mem["MemFree"]),
        ("MemAvailable", mem["MemAvailable"]),
        ("Buffers", mem["Buffers"]),
        ("Cached", mem["Cached"]),
        ("SwapCached", 0),
        ("Active", int(mem["MemTotal"] * 0.3)),
        ("Inactive", int(mem["MemTotal"] * 0.2)),
        ("SwapTotal", mem["SwapTotal"]),
        ("SwapFree", mem["SwapFree"]),
        ("Dirty", 128),
        ("Writeback", 0),
        ("Shmem", mem["Shmem"]),
        ("Slab", int(mem["SReclaimable"] * 1.5)),
        ("SReclaimable", mem["SReclaimable"]),
        ("CommitLimit", mem["MemTotal"] // 2 + mem["SwapTotal"]),
        ("HugePages_Total", None),
        ("Hugepagesize", 2048),
    ]
    lines = []
    for name, value in rows:
        if value is None:
            lines.append(f"{name + ':':<16}{0:>8}")
        else:
            lines.append(f"{name + ':':<16}{value:>8} kB")
    return "\n".join(lines) + "\n"


def proc_mdstat(state: dict[str, Any], host: str, now: float) -> str:
    """A two-disk mirror: md0 the root (sda2 + sdb2), md1 swap (sda3 + sdb3); disk-failure
    takes sdb out of both."""
    failed = model.fault_on(state, "disk-failure", host, now) is not None
    lines = [
        "Personalities : [raid1] [linear] [multipath] [raid0] [raid6] [raid5] [raid4] [raid10] "
    ]
    for md, part, blocks, bitmap in (("md1", 3, 2095104, False), ("md0", 2, 51290592, True)):
        member = f"sdb{part}[1](F)" if failed else f"sdb{part}[1]"
        counts = "[2/1] [U_]" if failed else "[2/2] [UU]"
        lines.append(f"{md} : active raid1 sda{part}[0] {member}")
        lines.append(f"      {blocks} blocks super 1.2 {counts}")
        if bitmap:
            lines.append("      bitmap: 1/1 pages [4KB], 65536KB chunk")
        lines.append("      ")
    lines.append("unused devices: <none>")
    return "\n".join(lines) + "\n"


def clock_offset(state: dict[str, Any], host: str, now: float) -> float:
    """Seconds the system clock is ahead of NTP time (negative: behind)."""
    if model.fault_on(state, "time-drift", host, now):
        return TIME_DRIFT_SECONDS + (_seed(host) % 100) / 100000
    return ((_seed(host) * 7919) % 90 - 45) / 1_000_000


VIRTUAL_PROC = ("/proc/mdstat", "/proc/loadavg", "/proc/meminfo")


def proc_file(path: str, state: dict[str, Any], topo: Topology, host: str, now: float) -> str:
    if path == "/proc/mdstat":
        return proc_mdstat(state, host, now)
    if path == "/proc/loadavg":
        return proc_loadavg(state, topo, host, now)
    return proc_meminfo(state, topo, host, now)
