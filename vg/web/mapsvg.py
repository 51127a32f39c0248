"""A map of the municipalities, drawn server-side as SVG from the CBS/PDOK
boundaries in the reference data (no map tiles, nothing fetched): the municipalities
an assignment's circle reaches are filled, its own location is marked.

The projection is equirectangular around 52.2 N (longitude scaled by its cosine):
at the size of the Netherlands the distortion is a few percent, enough to recognise
the country and choose a place."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

from markupsafe import Markup, escape

GEOJSON = Path("municipalities") / "gemeente_2024.geojson"
WIDTH = 400
WEST, EAST, SOUTH, NORTH = 3.30, 7.25, 50.74, 53.57
SCALE = math.cos(math.radians(52.2))
HEIGHT = round(WIDTH * (NORTH - SOUTH) / ((EAST - WEST) * SCALE))


@cache
def shapes(reference_dir: Path) -> dict[str, tuple[str, str]]:
    """code -> (name, SVG path data), read once per reference directory."""
    data = json.loads((reference_dir / GEOJSON).read_text(encoding="utf-8"))
    out = {}
    for feature in data["features"]:
        props, geometry = feature["properties"], feature["geometry"]
        polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                    else [geometry["coordinates"]])
        out[props["statcode"]] = (props["statnaam"], " ".join(
            _ring(ring) for polygon in polygons for ring in polygon))
    return out


def _ring(ring: list) -> str:
    points = [_xy(lon, lat) for lon, lat in ring]
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z"


def _xy(lon: float, lat: float) -> tuple[float, float]:
    x = (lon - WEST) / (EAST - WEST) * WIDTH
    y = (NORTH - lat) / (NORTH - SOUTH) * HEIGHT
    return x, y


def render(reference_dir: Path, reached: frozenset[str] | None, here: str | None,
           label: str) -> Markup:
    """The map; ``reached`` None means every municipality is in the circle."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="vg-map" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">']
    for code, (name, path) in shapes(reference_dir).items():
        kind = "here" if code == here else (
            "in" if reached is None or code in reached else "out")
        parts.append(f'<path class="vg-map__{kind}" data-code="{escape(code)}" '
                     f'd="{path}"><title>{escape(name)}</title></path>')
    parts.append("</svg>")
    return Markup("".join(parts))
