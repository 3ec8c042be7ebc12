#!/usr/bin/env bash
# The main job on the embedded lab: set up respond, start the simulated machine room on
# loopback, cut its mains power (back by itself after 30 s), and work the power-outage
# runbook against it — interactively in a terminal, unattended otherwise — then show the
# incident timeline. Leaves the lab running: `.venv/bin/respond lab down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
respond=.venv/bin/respond

$respond lab up
$respond lab heal >/dev/null
$respond lab inject power-loss --for 30s

set +e
if [ -t 0 ] && [ -t 1 ]; then
  echo "== interactive run: answer the prompt with one key, confirm the gate with y =="
  $respond run power-outage
else
  echo "== unattended run (no terminal): answers from examples/answers/power-outage.yaml =="
  $respond run power-outage --yes --answers examples/answers/power-outage.yaml
fi
rc=$?
set -e

run_id=$($respond timeline list --json | .venv/bin/python -c 'import json,sys; print(max(json.load(sys.stdin), key=lambda r: r["started"] or "")["run_id"])' 2>/dev/null || true)
if [ -n "$run_id" ]; then
  echo
  $respond timeline show "$run_id"
  $respond timeline verify "$run_id"
  echo
  echo "record: .respond/respond.db   ·   export: $respond timeline export $run_id --format html -o incident.html"
fi
echo "the lab keeps running: $respond lab status   ·   $respond lab down"
exit $rc
