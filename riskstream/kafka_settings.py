"""Kafka client settings from :class:`KafkaSettings`, for librdkafka and for aiokafka/Faust."""

from __future__ import annotations

from typing import Any

from riskstream.config.schema import KafkaSettings, env_secret


def librdkafka_config(settings: KafkaSettings) -> dict[str, Any]:
    """Security and bootstrap options in librdkafka's (confluent-kafka's) names."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap,
        "security.protocol": settings.security_protocol.lower(),
    }
    if settings.sasl_mechanism:
        conf["sasl.mechanism"] = settings.sasl_mechanism
        conf["sasl.username"] = settings.sasl_username or ""
        conf["sasl.password"] = env_secret(settings.sasl_password_env) or ""
    if settings.ssl_cafile:
        conf["ssl.ca.location"] = settings.ssl_cafile
    return conf


def aiokafka_config(settings: KafkaSettings) -> dict[str, Any]:
    """The same options in aiokafka's names."""
    conf: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap,
        "security_protocol": settings.security_protocol,
    }
    if settings.sasl_mechanism:
        conf["sasl_mechanism"] = settings.sasl_mechanism
        conf["sasl_plain_username"] = settings.sasl_username
        conf["sasl_plain_password"] = env_secret(settings.sasl_password_env)
    if settings.ssl_cafile:
        import ssl

        conf["ssl_context"] = ssl.create_default_context(cafile=settings.ssl_cafile)
    return conf
