"""Who may do what on Kafka: the ACLs of riskstream's four principals (pure; applied by
:func:`riskstream.topics.ensure_topics` when the cluster uses SASL).

Least privilege per role, on the configured topic names:

* ``edge`` writes events, readings, heartbeats, evidence (snapshots) and dead letters; reads
  nothing;
* ``worker`` reads events, readings, heartbeats, alerts (the store role) and alert actions,
  writes alerts and dead letters, and events/actions too (a record that arrives on another
  partition than its site's is forwarded there); owns its Faust app's topics and groups
  (the ``<app_id>`` prefix);
* ``center`` (the command center) reads alerts, heartbeats, evidence and dead letters (to
  report why an action was refused), writes alert actions and dead letters (evidence it
  refused); its consumer groups start with ``riskstream-center-``;
* ``admin`` is a super user (topics, ACLs); set in the broker, not here.

Nobody else, anonymous included, may do anything: the broker denies what no ACL allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from riskstream.config.schema import TopicNames
from riskstream.kafka_settings import Role, role_user

Operation = Literal["READ", "WRITE", "DESCRIBE", "CREATE", "ALL", "DESCRIBE_CONFIGS"]
Resource = Literal["TOPIC", "GROUP"]
Pattern = Literal["LITERAL", "PREFIXED"]
CENTER_GROUP_PREFIX = "riskstream-center-"


@dataclass(frozen=True)
class Grant:
    role: Role
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation

    @property
    def principal(self) -> str:
        return f"User:{role_user(self.role)}"


def _topics(role: Role, names: list[str], *ops: Operation) -> list[Grant]:
    return [Grant(role, "TOPIC", n, "LITERAL", op) for n in names for op in (*ops, "DESCRIBE")]


def grants(topics: TopicNames, app_id: str) -> list[Grant]:
    t = topics
    out = _topics("edge", [t.events, t.readings, t.health, t.evidence, t.dlq], "WRITE")
    out += _topics("worker", [t.events, t.readings, t.health, t.alerts, t.alert_actions], "READ")
    out += _topics("worker", [t.events, t.alerts, t.alert_actions, t.dlq], "WRITE")
    out += [Grant("worker", "TOPIC", app_id, "PREFIXED", "ALL"),
            Grant("worker", "GROUP", app_id, "PREFIXED", "ALL")]
    out += _topics("center", [t.alerts, t.health, t.evidence, t.dlq], "READ")
    out += _topics("center", [t.alert_actions, t.dlq], "WRITE")
    out += [Grant("center", "GROUP", CENTER_GROUP_PREFIX, "PREFIXED", "READ")]
    return sorted(set(out), key=lambda g: (g.role, g.resource, g.name, g.operation))
