#!/usr/bin/env bash
# The tests: install what is missing, then lint (ruff), type-check (mypy) and run pytest.
# Integration tests start their own Kafka and Mosquitto on free loopback ports and stop them.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -k config).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
export TZ=UTC
echo "== ruff";   .venv/bin/ruff check .
echo "== mypy";   .venv/bin/mypy
echo "== pytest"; .venv/bin/python -m pytest -q -ra "$@"
