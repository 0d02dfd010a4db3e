"""The site registry: facts about sites and risk points that the edge may not send."""

from __future__ import annotations

from riskstream.config.schema import Config, Site
from riskstream.events import Event


class SiteRegistry:
    def __init__(self, cfg: Config) -> None:
        self._sites = {s.id: s for s in cfg.sites}
        self._points = {(s.id, p.id): p.name for s in cfg.sites for p in s.risk_points}

    def site(self, site_id: str) -> Site | None:
        return self._sites.get(site_id)

    def enrich(self, event: Event) -> Event:
        """Fill the district and add site kind and risk-point name to ``attrs``."""
        site = self._sites.get(event.site_id)
        if site is None:
            return event
        attrs = {**event.attrs, "site_kind": site.kind.value}
        point = self._points.get((site.id, event.point_id or ""))
        if point:
            attrs["point_name"] = point
        return event.enriched(event.district or site.district, attrs)
