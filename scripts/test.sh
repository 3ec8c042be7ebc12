#!/usr/bin/env bash
# Set up everything the test suite needs and run it: lint, types, then pytest.
# The integration tests start real OpenSSH sshd servers, a real PostgreSQL server,
# fake-switches devices, ansible-runner with ansible-core, and headless Chromium, all on
# loopback. As root on Debian the system packages are installed with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# OpenSSH (real sshd peers), PostgreSQL (the shared store), Chromium and a CJK font (the
# HTML report is rendered and looked at), sudo (`become` steps), iputils-ping (local steps),
# systemd (its systemd-analyze checks the timer units `respond schedule install` prints),
# monitoring-plugins-basic (real Nagios plugins run as `nagios` checks over SSH).
for pkg in openssh-server openssh-client postgresql chromium fonts-wqy-zenhei sudo iputils-ping systemd monitoring-plugins-basic; do
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  fi
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "test: missing system packages: ${need[*]} (install them, or run as root on Debian)" >&2
    exit 2
  fi
fi
if [ ! -x /usr/lib/nagios/plugins/check_disk ]; then
  echo "test: /usr/lib/nagios/plugins/check_disk is missing (install monitoring-plugins-basic)" >&2
  exit 2
fi

bash scripts/setup.sh
# fake-switches is the tests' independent Cisco peer (tests/integration/switches.py), not part
# of respond. It pins Twisted<17, which does not build on Python 3.11; it works on current
# Twisted (in the test extra), so it is installed without its declared dependencies.
.venv/bin/python -m pip install -q --no-deps "fake-switches==1.5.0"
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
# Two worker processes (pytest-xdist), a test file at a time on one of them: a module's
# fixtures (a lab per module) start once, and each worker has its own session fixtures
# (PostgreSQL server, sshd farm, lab) on free ports in private directories. Files are handed
# out in the order tests/conftest.py sorts them (long ones first).
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --no-loadscope-reorder "$@"
