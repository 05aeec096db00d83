"""Distances between coordinates, and a flat projection for drawing the community's own plan."""
from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_000.0
Point = tuple[float, float]   # (latitude, longitude) in degrees


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres (haversine; within a community the error is centimetres)."""
    lat1, lng1, lat2, lng2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_text(metres: float) -> str:
    """约180米 / 约1.2公里: rounded the way people say it."""
    if metres < 1000:
        return f"约{max(10, round(metres / 10) * 10)}米"
    return f"约{metres / 1000:.1f}公里"


@dataclass(frozen=True)
class Plan:
    """Maps coordinates to x/y on a drawing of ``width`` × ``height`` with a margin, north up.

    Longitude degrees shrink with the cosine of the latitude; within a community
    an equirectangular projection around its centre keeps distances true to scale.
    """

    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float
    width: float = 800
    height: float = 600
    margin: float = 40

    @classmethod
    def around(cls, points: list[Point], width: float = 800, height: float = 600) -> "Plan":
        if not points:
            return cls(0, 0, 0, 0, width, height)
        lats, lngs = [p[0] for p in points], [p[1] for p in points]
        return cls(min(lats), max(lats), min(lngs), max(lngs), width, height)

    @property
    def _scale(self) -> float:
        """Drawing units per metre, the same on both axes."""
        cos = math.cos(math.radians((self.min_lat + self.max_lat) / 2))
        span_x = max((self.max_lng - self.min_lng) * cos, 1e-6) * 111_320
        span_y = max(self.max_lat - self.min_lat, 1e-6) * 110_540
        return min((self.width - 2 * self.margin) / span_x, (self.height - 2 * self.margin) / span_y)

    def xy(self, point: Point) -> tuple[float, float]:
        cos = math.cos(math.radians((self.min_lat + self.max_lat) / 2))
        scale = self._scale
        centre_lat, centre_lng = (self.min_lat + self.max_lat) / 2, (self.min_lng + self.max_lng) / 2
        x = self.width / 2 + (point[1] - centre_lng) * cos * 111_320 * scale
        y = self.height / 2 - (point[0] - centre_lat) * 110_540 * scale
        return round(x, 1), round(y, 1)

    def metres_to_units(self, metres: float) -> float:
        return metres * self._scale
