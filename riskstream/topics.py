"""Create riskstream's Kafka topics with the configured partition count, and, when the cluster
uses SASL, the ACLs of its principals (:mod:`riskstream.kafka_acls`). Idempotent."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._acl import AclBinding, AclOperation, AclPermissionType
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType
from confluent_kafka.cimpl import NewTopic

from riskstream.config.schema import Config, KafkaSettings
from riskstream.kafka_acls import grants
from riskstream.kafka_settings import librdkafka_config
from riskstream.services.process import ServiceError


def _admin(settings: KafkaSettings) -> AdminClient:
    """The admin client, quiet: librdkafka printed a FAIL line every 50 ms while a broker was
    down (600 in the 30 s wait); what went wrong is told once, as a :class:`ServiceError`."""
    return AdminClient({**librdkafka_config(settings, "admin"), "log_level": 0})


def all_topic_names(settings: KafkaSettings) -> list[str]:
    return list(settings.topics.model_dump().values())


def ensure_topics(cfg: Config, timeout: float = 30.0) -> list[str]:
    """Create missing topics (and grant the ACLs); returns the names created now. A broker that
    does not answer in ``timeout`` (down, or refusing the admin's password) is a
    :class:`ServiceError` that says what to check, not a traceback."""
    try:
        return _ensure_topics(cfg, timeout)
    except (TimeoutError, KafkaException) as exc:
        raise ServiceError(
            f"Kafka at {cfg.kafka.bootstrap} did not answer the admin within {timeout:g} s "
            f"({type(exc).__name__}{': ' + str(exc) if str(exc) else ''}): is it running "
            "('riskstream services status'), and are the RS_KAFKA_* passwords this broker's "
            "('eval \"$(riskstream services env)\"')?") from exc


def _ensure_topics(cfg: Config, timeout: float) -> list[str]:
    settings = cfg.kafka
    if settings.sasl_mechanism:
        grant_acls(settings, cfg.worker.app_id, timeout)
    admin = _admin(settings)
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [n for n in all_topic_names(settings) if n not in existing]
    if not wanted:
        return []
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=settings.partitions, replication_factor=1) for name in wanted],
        operation_timeout=timeout,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout)
            created.append(name)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    return created


def grant_acls(settings: KafkaSettings, app_id: str, timeout: float = 30.0) -> int:
    """Grant every principal its ACLs on these topics and this Faust app (creating an existing
    one is a no-op); returns how many."""
    admin = _admin(settings)
    bindings = [
        AclBinding(ResourceType[g.resource], g.name, ResourcePatternType[g.pattern], g.principal,
                   "*", AclOperation[g.operation], AclPermissionType.ALLOW)
        for g in grants(settings.topics, app_id)
    ]
    for future in admin.create_acls(bindings, request_timeout=timeout).values():
        future.result(timeout)
    return len(bindings)
