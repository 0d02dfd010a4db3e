"""Kafka client settings from :class:`KafkaSettings`, for librdkafka and for aiokafka/Faust.

Every riskstream process talks to Kafka as one of four principals, each allowed only what its
role needs (the ACLs are in :mod:`riskstream.kafka_acls`): ``edge`` produces events, readings,
heartbeats and dead letters; ``worker`` runs the stream processors; ``center`` reads alerts and
produces alert actions; ``admin`` creates topics and ACLs. With SASL on and no
``sasl_username`` in the config, a process logs in as its role's user (``riskstream-<role>``)
with the password in ``RS_KAFKA_<ROLE>_PASSWORD`` (``riskstream services env`` exports them).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from riskstream.config.schema import KafkaSettings, env_secret

Role = Literal["admin", "edge", "worker", "center"]
ROLES: tuple[Role, ...] = ("admin", "edge", "worker", "center")


def role_user(role: Role) -> str:
    return f"riskstream-{role}"


def role_password_env(role: Role) -> str:
    return f"RS_KAFKA_{role.upper()}_PASSWORD"


def credentials(settings: KafkaSettings, role: Role) -> tuple[str, str] | None:
    """(user, password) for ``role`` when SASL is on; a configured user wins over the role's."""
    if not settings.sasl_mechanism:
        return None
    user = settings.sasl_username or role_user(role)
    env = settings.sasl_password_env or role_password_env(role)
    password = env_secret(env)
    if password is None:
        raise KafkaCredentialsError(
            f"Kafka uses SASL ({settings.sasl_mechanism}) but {env} is not set: the password "
            f"of Kafka user {user!r} (eval \"$(riskstream services env)\" sets it for the "
            "local stack)")
    return user, password


class KafkaCredentialsError(RuntimeError):
    """SASL is configured but this role's password is not available."""


def librdkafka_config(settings: KafkaSettings, role: Role) -> dict[str, Any]:
    """Security and bootstrap options in librdkafka's (confluent-kafka's) names."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap,
        "security.protocol": settings.security_protocol.lower(),
    }
    login = credentials(settings, role)
    if login is not None:
        conf["sasl.mechanism"] = settings.sasl_mechanism
        conf["sasl.username"], conf["sasl.password"] = login
    if settings.ssl_cafile:
        conf["ssl.ca.location"] = settings.ssl_cafile
    return conf


def polled_client_config(settings: KafkaSettings, role: Role) -> dict[str, Any]:
    """:func:`librdkafka_config` for a client that polls: librdkafka's own lines go through
    our logging, where repeats are capped (printed to stderr, a client waiting for a broker
    that was down wrote a FAIL line every 50 ms). Only for clients that poll: the lines are
    handed over on poll, and queue until then."""
    return {**librdkafka_config(settings, role), "logger": logging.getLogger("librdkafka")}


def aiokafka_config(settings: KafkaSettings, role: Role) -> dict[str, Any]:
    """The same options in aiokafka's names."""
    conf: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap,
        "security_protocol": settings.security_protocol,
    }
    login = credentials(settings, role)
    if login is not None:
        conf["sasl_mechanism"] = settings.sasl_mechanism
        conf["sasl_plain_username"], conf["sasl_plain_password"] = login
    if settings.ssl_cafile:
        import ssl

        conf["ssl_context"] = ssl.create_default_context(cafile=settings.ssl_cafile)
    return conf
