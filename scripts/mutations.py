"""Mutation check: each listed mutation of the code must make the unit suite fail.

Run: .venv/bin/python scripts/mutations.py   (restores every file; prints killed/survived)
Each mutation once went unnoticed by the whole suite (issue: trust); a survivor is a missing test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTATIONS = [  # (what, file, original text, mutated text)
    ("threshold filter cooldown", "riskstream/models/thresholding.py",
     "            self._quiet = self.cfg.cooldown", "            self._quiet = 0"),
    ("rule cooldown after resolve", "riskstream/streams/alerts.py",
     'if book["cooldown"].get(slot, 0) > now_ms:', 'if book["cooldown"].get(slot, 0) < 0:'),
    ("co-occurrence window check", "riskstream/streams/rules/cooccurrence.py",
     "return chosen if max(times) - min(times) <= self._window_ms else None", "return chosen"),
    ("escalation severity bump", "riskstream/streams/alerts.py",
     "_ORDER[min(alert.severity.rank + 1, len(_ORDER) - 1)]", "alert.severity"),
    ("forwarder batch framing", "riskstream/events.py",
     'return _BATCH_HEAD + b",".join(encoded) + b"]}"', 'return _BATCH_HEAD + b",".join(encoded) + b"]"'),
    ("edge learns from flagged readings", "riskstream/sensors/chain.py",
     "(link.detector.advance if flagged else link.detector.learn)(x)", "link.detector.learn(x)"),
    ("sensor.anomaly severity", "riskstream/sensors/chain.py",
     'KnnLikelihoodSpec: ("sensor.anomaly", Severity.WARNING)',
     'KnnLikelihoodSpec: ("sensor.anomaly", Severity.INFO)'),
]


def main() -> int:
    survived = []
    for what, name, original, mutated in MUTATIONS:
        path = ROOT / name
        text = path.read_text()
        if text.count(original) != 1:
            print(f"?? {what}: the original text is not in {name} exactly once")
            survived.append(what)
            continue
        path.write_text(text.replace(original, mutated))
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                                   "tests/unit"], cwd=ROOT, capture_output=True, text=True,
                                  env={"TZ": "UTC", "PATH": "/usr/bin:/bin"})
        finally:
            path.write_text(text)
        killed = done.returncode != 0
        print(f"{'killed  ' if killed else 'SURVIVED'} {what}")
        if not killed:
            survived.append(what)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
