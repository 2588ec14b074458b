"""A run's outputs, checked before any work and kept all or nothing.

Inputs are sacred: no output may be an input of the same run, or another output of it,
whatever the spelling (relative, symbolic link, other case on a case-insensitive disk,
hard link). Each output's folder must be a folder that can be written, the output itself
must not be a folder, and a raster output must end in an extension of the format written.
When a later output of a run fails, the ones already moved into place are removed again.
"""

import functools
import os

from ..errors import WaterLogRegError
from .reading import special_file_kind
from .writing import RUN_OUTPUTS, check_output_folder, remove_quietly

# The rasters are written by GDAL's GTiff driver (tiled, compressed, BIGTIFF when needed).
RASTER_EXTENSIONS = (".tif", ".tiff")


def file_part(path):
    """The file of a path as QGIS may give it: 'samples.gpkg|layername=samples' → 'samples.gpkg'.
    None for what is no file on this disk (a memory layer, a URL, a GDAL virtual path)."""
    if not path:
        return None
    path = os.fspath(path).split("|", 1)[0]
    if not path or path.startswith(("/vsi", "memory:", "TEMPORARY_OUTPUT")) or "://" in path:
        return None
    return path


def same_file(first, second):
    """True when two paths name one file: resolved (links, '..', case where the system ignores
    it) or, when both exist, the same inode (hard links, case-insensitive disks)."""
    if os.path.normcase(os.path.realpath(first)) == os.path.normcase(os.path.realpath(second)):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


LISTED_REPEATS = 5  # as many as the lists of polygon ids name


def distinct_files(paths):
    """The paths with each file once, in the order given, the first spelling kept; and
    [(later spelling, first spelling)] for the repeats: one file as 'a.tif', 'dir/../a.tif', a
    link or a hard link to it, or a glob matching it again, would be read twice."""
    kept, repeats, first_spelling = [], [], {}
    for path in paths:
        identity = _file_identity(path)
        if identity in first_spelling:
            repeats.append((path, first_spelling[identity]))
            continue
        first_spelling[identity] = path
        kept.append(path)
    return kept, repeats


def _file_identity(path):
    """What same_file compares, as a key: the inode where the file exists, else the resolved path."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return os.path.normcase(os.path.realpath(path))
    return status.st_dev, status.st_ino


def describe_repeats(repeats):
    """"'dir/../a.tif' is 'a.tif', 'a.tif' again", the first few of them."""
    described = ", ".join(f"'{first}' again" if later == first else f"'{later}' is '{first}'"
                          for later, first in repeats[:LISTED_REPEATS])
    more = len(repeats) - LISTED_REPEATS
    return described + (f" and {more} more" if more > 0 else "")


def check_outputs(inputs, outputs, rasters=(), create_folders=()):
    """Refuse, before any work, outputs that would overwrite an input or each other, or that
    cannot be written where asked.

    inputs, outputs: {parameter name: path}; empty paths (optional outputs left out, QGIS
    memory layers) are skipped. rasters: the output names written as GeoTIFF.
    create_folders: the output names that are folders, created when missing.
    """
    outputs = {name: file_part(path) for name, path in outputs.items()}
    outputs = {name: path for name, path in outputs.items() if path}
    inputs = {name: file_part(path) for name, path in inputs.items()}
    inputs = {name: path for name, path in inputs.items() if path}
    for name, path in outputs.items():
        for input_name, input_path in inputs.items():
            if same_file(path, input_path):
                raise WaterLogRegError(
                    f"{name} is the same file as {input_name} ('{input_path}'); choose another output "
                    "path — the input would be overwritten."
                )
    names = list(outputs)
    for index, name in enumerate(names):
        for other in names[:index]:
            if same_file(outputs[name], outputs[other]):
                raise WaterLogRegError(
                    f"{name} is the same file as {other} ('{outputs[other]}'); give each output a path "
                    "of its own."
                )
    for name, path in outputs.items():
        if name in create_folders:
            check_output_folder_path(name, path)
        else:
            check_output_file(name, path, raster=name in rasters)


def check_output_file(name, path, raster=False):
    """One output file: not a folder, in a writable folder, with a format's extension."""
    kind = special_file_kind(path)
    if kind:
        raise WaterLogRegError(
            f"{name} '{path}' is {kind}, not a regular file; writing the output would replace it. "
            "Choose the path of a file."
        )
    if os.path.isdir(path):
        raise WaterLogRegError(
            f"{name} '{path}' is an existing folder, not a file; give the path of a file, e.g. a new "
            "name inside that folder."
        )
    folder = os.path.dirname(os.path.abspath(path))
    blocker = _file_above(folder)
    if blocker:
        raise WaterLogRegError(
            f"{name} '{path}' cannot be written: '{blocker}' is a file, not a folder. Choose another output path."
        )
    if raster:
        extension = os.path.splitext(path)[1].lower()
        if extension not in RASTER_EXTENSIONS:
            shown = f"the extension '{extension}'" if extension else "no extension"
            raise WaterLogRegError(
                f"{name} '{path}' has {shown}, but this tool writes GeoTIFF rasters; name the file "
                f"'{os.path.splitext(os.path.basename(path))[0]}.tif' (or .tiff), or convert the "
                "result afterwards (Raster → Conversion → Translate)."
            )
    check_output_folder(path)


def check_output_folder_path(name, folder):
    """An output folder: created when missing (with its parents), refused when it is a file
    or cannot be written."""
    blocker = _file_above(os.path.abspath(folder))
    if blocker:
        raise WaterLogRegError(
            f"{name} '{folder}' cannot be used as a folder: '{blocker}' is a file. Choose another output folder."
        )
    if not os.path.isdir(folder):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as error:
            raise WaterLogRegError(
                f"{name} '{folder}' does not exist and cannot be created ({error.strerror}); "
                "create it yourself or choose another output folder."
            ) from None
    check_output_folder(os.path.join(folder, "any"))


def _file_above(folder):
    """The first existing path from `folder` upwards that is not a folder, else None."""
    path = folder
    while True:
        if os.path.lexists(path):
            return None if os.path.isdir(path) else path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


class OutputSet:
    """All or nothing for one run: every output atomic_output moves into place inside the
    block is recorded, and removed again when the block ends in an error or a cancel.

        with OutputSet():
            predict_water(...)   # the map and the mask are in place
            write_model(...)     # fails: the map and the mask are removed too
    """

    def __init__(self):
        self.paths = []
        self.token = None

    def __enter__(self):
        self.token = RUN_OUTPUTS.set(self.paths)
        return self

    def __exit__(self, kind, error, traceback):
        RUN_OUTPUTS.reset(self.token)
        if kind is not None:
            for path in self.paths:
                remove_quietly(path)
                remove_quietly(path + ".aux.xml")
        elif RUN_OUTPUTS.get() is not None:
            RUN_OUTPUTS.get().extend(self.paths)  # a job inside a run: its outputs are the run's too
        return False


def all_or_nothing(job):
    """Decorator: `job` runs inside an OutputSet, so when it fails or is canceled none of the
    outputs it wrote stays behind."""

    @functools.wraps(job)
    def run(*args, **kwargs):
        with OutputSet():
            return job(*args, **kwargs)

    return run
