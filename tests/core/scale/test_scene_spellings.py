"""One scene under several spellings is one scene: a path, 'dir/../a.tif', a link, a hard link,
a glob matching it again."""

import os

from support.synthetic import water_scene, write_raster

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.raster.outputs import distinct_files
from water_logreg_plugin.core.scale.scenes import expand_scenes, scene_outputs


def spellings(tmp_path):
    """a.tif and four other names for it, and b.tif."""
    scenes = tmp_path / "scenes"
    (scenes / "sub").mkdir(parents=True)
    first = write_raster(scenes / "a.tif", water_scene(rows=20, cols=20)[0])
    write_raster(scenes / "b.tif", water_scene(rows=20, cols=20, seed=1)[0])
    os.symlink(first, tmp_path / "link.tif")
    os.link(first, tmp_path / "hard.tif")
    return first, [first, str(scenes / "sub" / ".." / "a.tif"), str(tmp_path / "link.tif"),
                   str(tmp_path / "hard.tif"), str(scenes / "*.tif")]


def test_each_file_once_under_its_first_spelling_and_the_log_says_so(tmp_path):
    first, given = spellings(tmp_path)
    lines = []
    scenes = expand_scenes(given, Callbacks(log=lines.append))
    assert scenes == [first, str(tmp_path / "scenes" / "b.tif")]
    assert len(scene_outputs(scenes, str(tmp_path / "out"))) == 2
    assert lines == [
        f"Warning: 4 of the scene paths name a file given before ('{given[1]}' is '{first}', '{given[2]}' is "
        f"'{first}', '{given[3]}' is '{first}', '{first}' again); each file is predicted once, under "
        "its first name."
    ]


def test_distinct_paths_say_nothing(tmp_path):
    lines = []
    scenes = [str(tmp_path / "a.tif"), str(tmp_path / "b.tif")]  # need not exist yet
    assert expand_scenes(scenes, Callbacks(log=lines.append)) == scenes
    assert lines == []


def test_files_that_do_not_exist_are_compared_by_their_resolved_path(tmp_path):
    kept, repeats = distinct_files(["x.tif", str(tmp_path / "x.tif"), "./x.tif"])
    assert len(kept) == 2  # x.tif here and x.tif in tmp_path are two files
    assert repeats == [("./x.tif", "x.tif")]
