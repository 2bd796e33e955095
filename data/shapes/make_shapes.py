"""Rebuild im3_building_shapes.json from the PNNL IM3 Data Center Atlas subset.

Each building outline is projected to its UTM zone, centred, scaled to unit area and
simplified; the simulator scales them to a hall's area. Run from the repository root:
    python data/shapes/make_shapes.py \
        ../shared/data/im3-datacenter-atlas/im3_datacenter_footprints_subset.geojson
"""

import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely


def main(src: str) -> None:
    """Normalise every building polygon of src and write the JSON beside this script."""
    gdf = gpd.read_file(src)
    gdf = gdf[(gdf["type"] == "building") & (gdf.geometry.geom_type == "Polygon")]
    shapes = []
    for geom in gdf.geometry:
        utm = gpd.GeoSeries([geom], crs=4326).estimate_utm_crs()
        poly = gpd.GeoSeries([geom], crs=4326).to_crs(utm).iloc[0]
        if poly.area < 2000 or not poly.is_valid:
            continue
        poly = shapely.affinity.translate(poly, -poly.centroid.x, -poly.centroid.y)
        poly = shapely.affinity.scale(poly, poly.area ** -0.5, poly.area ** -0.5, origin=(0, 0))
        poly = poly.simplify(0.01)
        shapes.append([[round(x, 4), round(y, 4)] for x, y in poly.exterior.coords])
    out = Path(__file__).with_name("im3_building_shapes.json")
    out.write_text(json.dumps({"source": "PNNL IM3 Open Source Data Center Atlas v1 "
                               "(doi:10.57931/2550666), from OpenStreetMap, (c) OpenStreetMap "
                               "contributors, ODbL 1.0", "shapes": shapes}))
    print(f"{len(shapes)} shapes written to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
