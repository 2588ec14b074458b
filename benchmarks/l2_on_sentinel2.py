"""docs/FIT.md's Sentinel-2 table: Classify water with each L2_PENALTY on the bundled Sentinel-2
clip, scored by Assess accuracy on the independent OpenStreetMap polygons.

    .venv/bin/python benchmarks/l2_on_sentinel2.py
"""

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "demo", "data")
PENALTIES = (0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2)

sys.path.insert(0, ROOT)
from water_logreg_plugin.standalone import start_qgis  # noqa: E402


def main():
    application = start_qgis()  # noqa: F841 — held so QGIS lives to the end
    import processing

    print("| bands | λ | converged | accuracy | kappa | log-loss | Brier | ECE |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as work:
        for bands, name in (([], "green, red, NIR"), ([1, 2, 3, 4], "all 4 bands")):
            for penalty in PENALTIES:
                classified = processing.run("waterlogreg:classifywater", {
                    "INPUT": os.path.join(DATA, "sentinel2_havel.tif"), "BANDS": bands,
                    "POLYGONS": os.path.join(DATA, "sentinel2_training.gpkg"), "CLASS_FIELD": "class",
                    "WATER_VALUES": "water", "L2_PENALTY": penalty,
                    "OUTPUT": os.path.join(work, f"probability_{len(bands)}_{penalty:g}.tif"),
                })
                assessed = processing.run("waterlogreg:assessaccuracy", {
                    "INPUT": classified["OUTPUT"], "POLYGONS": os.path.join(DATA, "sentinel2_validation.gpkg"),
                    "CLASS_FIELD": "class", "WATER_VALUES": "water",
                })
                print(f"| {name} | {penalty:g} | {'yes' if classified['CONVERGED'] else 'no'} | "
                      + " | ".join(f"{assessed[key]:.4f}" for key in ("OVERALL_ACCURACY", "KAPPA", "LOG_LOSS",
                                                                     "BRIER", "ECE")) + " |", flush=True)


if __name__ == "__main__":
    main()
