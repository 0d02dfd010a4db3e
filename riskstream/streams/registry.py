"""The site registry: facts about sites and risk points that the edge may not send."""

from __future__ import annotations

from typing import Any

from riskstream.config.schema import Config, Site


class SiteRegistry:
    def __init__(self, cfg: Config) -> None:
        self._sites = {s.id: s for s in cfg.sites}
        self._points = {(s.id, p.id): p.name for s in cfg.sites for p in s.risk_points}
        self._context: dict[tuple[str, str | None], tuple[str, dict[str, Any]]] = {}

    def site(self, site_id: str) -> Site | None:
        return self._sites.get(site_id)

    def context(self, site_id: str, point_id: str | None) -> tuple[str, dict[str, Any]]:
        """The district and the attrs (site kind, risk-point name) the registry adds to an
        event of this site and point; ``("", {})`` for a site it does not know. The store
        applies them while building rows (:class:`riskstream.storage.rows.EventRows`); cached,
        since it asks for every event (for configured sites only, so that events of unknown
        sites cannot grow the cache)."""
        key = (site_id, point_id)
        found = self._context.get(key)
        if found is None:
            site = self._sites.get(site_id)
            if site is None:
                return "", {}
            extra: dict[str, Any] = {"site_kind": site.kind.value}
            point = self._points.get((site_id, point_id or ""))
            if point:
                extra["point_name"] = point
            found = self._context[key] = (site.district, extra)
        return found
