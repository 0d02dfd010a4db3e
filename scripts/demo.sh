#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, start Kafka and Mosquitto, run the
# edge agent and a stream worker on config/demo.yaml with simulated sensors for about a minute,
# print the events and a ClickHouse summary, then stop everything it started.
# Extra arguments go to `riskstream demo` (see: .venv/bin/riskstream demo --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
exec .venv/bin/riskstream demo --config config/demo.yaml "$@"
