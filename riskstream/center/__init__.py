"""The command-center console (``riskstream center serve``): a live, district-scoped alarm
board in the browser, over the alert stream.

* :mod:`.accounts`: users (argon2 hashes), server-side sessions and API tokens (SQLite);
* :mod:`.throttle`: login rate limiting (pure, clock injected);
* :mod:`.board`: the alerts in memory, each user's scope, the change log SSE replays (pure);
* :mod:`.feed`: the Kafka consumer filling the board, and the action producer;
* :mod:`.audit`: the append-only audit trail in ClickHouse;
* :mod:`.web`: the Starlette application (pages, JSON API, live stream);
* ``templates/`` and ``static/``: every page asset, served by riskstream itself.
"""
