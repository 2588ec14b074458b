"""Pixel values the algorithms accept with care (docs/BAD_INPUT.md's second table): a band constant
over the samples, NaN and infinite pixels, pixels masked by a mask band or an alpha band."""

import json
import os

import numpy as np
import pytest
from osgeo import gdal
from support.bad_inputs import accepted, run_checked, sample_counts
from support.recording_feedback import RecordingFeedback
from support.synthetic import read, water_scene, write_masked_raster, write_raster


def test_constant_band_trains_with_a_warning_and_no_nan(run_algorithm, files):
    bands, truth = water_scene()
    bands[2] = 1000
    write_raster(files.raster, bands)
    feedback = RecordingFeedback()
    parameters = files.parameters("classifywater")
    result = run_algorithm("classifywater", parameters, feedback=feedback)
    assert ("Warning: band 3 is constant (1000) over the samples; it cannot tell water from land and is "
            "ignored by the model.") in feedback.lines
    probability, _ = read(result["OUTPUT"])
    assert np.isfinite(probability).all() and ((probability >= 0) & (probability <= 1)).all()
    assert ((probability >= 0.5) == truth).mean() > 0.99
    with open(result["OUTPUT_MODEL"]) as handle:
        model = json.load(handle)
    assert model["standardization"]["std"][2] == 1.0
    assert model["layers"][0]["weight"][0][2] == 0.0

    feedback = RecordingFeedback()
    samples = run_algorithm("samplepixels", files.parameters("samplepixels"))["OUTPUT"]
    run_algorithm("trainmodel", {"SAMPLES": samples, "OUTPUT_MODEL": str(files.output_folder / "m2.json")},
                  feedback=feedback)
    assert any(line.startswith("Warning: band 3 is constant (1000)") for line in feedback.lines)


@pytest.mark.parametrize("nodata", [-9999.0, float("nan")], ids=["nan-and-inf", "nan-nodata"])
def test_nan_and_infinite_pixels_become_nodata(run_algorithm, files, nodata):
    bands, truth = water_scene()
    bands = bands.astype(np.float32)
    bad = np.zeros(truth.shape, dtype=bool)
    bands[0, 15:25, 10:30] = np.nan  # inside a land polygon
    bands[1, 15:25, 130:150] = np.inf  # inside a water polygon
    bands[2, 100:105, 100:140] = -np.inf
    bad[15:25, 10:30] = bad[15:25, 130:150] = bad[100:105, 100:140] = True
    write_raster(files.raster, bands, nodata=nodata, data_type=gdal.GDT_Float32)

    samples = run_algorithm("samplepixels", dict(files.parameters("samplepixels"), MAX_PIXELS_PER_CLASS=0))
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(samples["OUTPUT"], "samples")
    values = np.array([[feature[f"b{band}"] for band in (1, 2, 3)] for feature in layer.getFeatures()])
    assert len(values) == 8 * 20 * 30 - 2 * 10 * 20 and np.isfinite(values).all()

    result = run_algorithm("classifywater", files.parameters("classifywater"))
    for path in (result["OUTPUT"], str(files.output_folder / "again.tif")):
        if path != result["OUTPUT"]:
            path = run_algorithm("predictwater", {"INPUT": files.raster, "MODEL": result["OUTPUT_MODEL"],
                                                  "OUTPUT": path})["OUTPUT"]
        probability, _ = read(path)
        assert (probability[bad] == -9999).all()
        valid = probability[~bad]
        assert ((valid >= 0) & (valid <= 1)).all()
        assert ((valid >= 0.5) == truth[~bad]).mean() > 0.99


MASKED_ROWS = slice(15, 25)  # across every training polygon (rows 10–40 and 110–140 hold none)


@pytest.mark.parametrize("layout", [("TILED=YES",), ("BLOCKYSIZE=8",)], ids=["tiled", "striped"])
@pytest.mark.parametrize("kind", ["dataset_mask", "alpha_band"])
def test_masked_pixels_are_never_sampled_and_are_nodata(run_algorithm, files, kind, layout):
    bands, truth = water_scene()
    invalid = np.zeros(truth.shape, dtype=bool)
    invalid[MASKED_ROWS] = True
    os.remove(files.raster)
    write_masked_raster(files.raster, bands, invalid, "alpha" if kind == "alpha_band" else kind, layout)
    row = accepted(kind)
    assert row.algorithms == ("samplepixels", "classifywater", "predictwater")
    result, _ = run_checked(run_algorithm, files, "samplepixels",
                            dict(files.parameters("samplepixels"), MAX_PIXELS_PER_CLASS=0))
    assert sample_counts(result["OUTPUT"]) == (4 * 20 * 30 - 2 * 20 * 10, 4 * 20 * 30 - 2 * 20 * 10)
    result, _ = run_checked(run_algorithm, files, "classifywater", files.parameters("classifywater"))
    again = str(files.output_folder / "again.tif")
    run_checked(run_algorithm, files, "predictwater",
                {"INPUT": files.raster, "MODEL": result["OUTPUT_MODEL"], "OUTPUT": again})
    for path in (result["OUTPUT"], again):
        probability, _ = read(path)
        assert (probability[invalid] == -9999).all()
        assert ((probability[~invalid] >= 0.5) == truth[~invalid]).mean() > 0.99
    with open(result["OUTPUT_MODEL"]) as handle:
        assert json.load(handle)["bands"] == [1, 2, 3]
