from synthetic import read, standard_polygons, water_scene, write_polygons, write_raster


def test_classify(run_algorithm, tmp_path):
    bands, truth = water_scene()
    raster = write_raster(tmp_path / "scene.tif", bands)
    polygons = write_polygons(tmp_path / "p.gpkg", standard_polygons(), epsg=4326)
    result = run_algorithm("classifywater", {
        "INPUT": raster, "POLYGONS": polygons, "CLASS_FIELD": "class",
        "OUTPUT": str(tmp_path / "out.tif"), "OUTPUT_MODEL": str(tmp_path / "m.json"),
    })
    print(result)
    probability, _ = read(result["OUTPUT"])
    assert ((probability >= 0.5) == truth).mean() > 0.99
