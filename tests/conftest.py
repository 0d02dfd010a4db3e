"""Shared test set-up: every test runs with TZ=UTC so no local time zone leaks in."""

import os
import time

os.environ["TZ"] = "UTC"
time.tzset()
