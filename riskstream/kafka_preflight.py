"""Ask the broker, before a long-running process starts, whether it takes a role's credentials.

A refused SASL password is a mistake a retry cannot mend: Faust's consumer failed to bootstrap,
the worker exited, and its supervisor started a fresh one, forever, a traceback each time. A
broker that does not answer, though, may be up in a moment: that is left to the clients' own
retries, so this check says nothing about it.
"""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from riskstream.config.schema import KafkaSettings
from riskstream.kafka_settings import (
    KafkaCredentialsError,
    Role,
    credentials,
    librdkafka_config,
    role_password_env,
)


def login_refused(err: KafkaError) -> bool:
    """librdkafka's error for a broker that refused the SASL login (not one that is away)."""
    return bool(err.code() == KafkaError._AUTHENTICATION)


def refusal(settings: KafkaSettings, role: Role, timeout: float = 10.0) -> str | None:
    """The broker's reason when it refuses ``role``'s SASL login; None when it accepts it, when
    SASL is off, or when no broker answers within ``timeout``."""
    if credentials(settings, role) is None:
        return None
    refused: list[str] = []

    def on_error(err: KafkaError) -> None:
        if login_refused(err):
            refused.append(err.str())

    # log_level 0: the refusal is told once, by the caller, not by librdkafka every few ms
    conf: dict[str, Any] = {**librdkafka_config(settings, role), "error_cb": on_error, "log_level": 0}
    admin = AdminClient(conf)
    deadline = time.monotonic() + timeout
    while not refused and time.monotonic() < deadline:
        try:
            admin.list_topics(timeout=0.5)
            return None
        except KafkaException:
            admin.poll(0.1)  # serves error_cb
    return refused[0] if refused else None


def require_accepted(settings: KafkaSettings, role: Role, timeout: float = 10.0) -> None:
    """Raise :class:`KafkaCredentialsError` (one line, exit 2) when the broker refuses ``role``."""
    reason = refusal(settings, role, timeout)
    if reason is not None:
        user, _ = credentials(settings, role) or ("", "")
        env = settings.sasl_password_env or role_password_env(role)
        raise KafkaCredentialsError(
            f"Kafka at {settings.bootstrap} refused the login of user {user!r} ({reason}); "
            f"check {env} (eval \"$(riskstream services env)\" for the local stack)")
