"""Every kind of wrong input, through processing.run: a plain refusal and no file left behind.

Each row of tests/support/bad_inputs.py's REFUSED table (the first table of docs/BAD_INPUT.md,
which tests/algorithms/write_bad_input_table.py writes, and a test below checks) is run through
every algorithm it names; the QgsProcessingException must say exactly the row's message, and no
output may exist afterwards, neither under its name nor as a partial file. Every row runs with
GDAL's exceptions off (QGIS 3.22) and on (QGIS 3.40+ Processing): the same message either way.
"""

import os
import sys
from contextlib import contextmanager, nullcontext

import pytest
from qgis.core import QgsProcessingException
from support.bad_inputs import OUTPUT_NAMES, REFUSED, checksums, expected_message


@contextmanager
def unprivileged():
    """As root every folder is writable; drop to 'nobody' for the run so permissions apply."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def leftovers(parameters, folders, inputs=()):
    """Outputs present under their names (inputs an output was pointed at aside), and partial
    files in the output folders."""
    present = [parameters[name] for name in OUTPUT_NAMES
               if parameters.get(name) and (os.path.isfile if name != "OUTPUT_FOLDER" else os.path.exists)(
                   parameters[name])
               and not any(os.path.samefile(parameters[name], path) for path in inputs if os.path.exists(path))]
    partial = [os.path.join(str(folder), name) for folder in folders if os.path.isdir(folder)
               for name in os.listdir(folder) if "partial" in name]
    return present + partial


CASES = [pytest.param(row, algorithm, id=f"{row.key}-{algorithm}") for row in REFUSED for algorithm in row.algorithms]


@pytest.mark.parametrize("row, algorithm", CASES)
def test_refused_with_a_plain_message_and_no_output(gdal_exceptions, run_algorithm, files, row, algorithm):
    if row.key == "cuda_without_gpu":
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a CUDA GPU")
    parameters = files.parameters(algorithm)
    row.spoil(files, parameters)
    read_only_row = row.key == "output_folder_read_only"
    if read_only_row:
        world_readable(files.folder)
    before = checksums(files.folder)
    with unprivileged() if read_only_row else nullcontext(), pytest.raises(QgsProcessingException) as refusal:
        run_algorithm(algorithm, parameters)
    assert str(refusal.value) == expected_message(row, files, parameters)
    inputs = [files.raster, files.polygons, files.samples, files.model]
    assert leftovers(parameters, [files.output_folder, files.folder / "missing", files.folder / "read-only"],
                     inputs) == []
    assert checksums(files.folder) == before, "an input changed"
    assert not (files.folder / "payload-ran").exists()


def world_readable(folder):
    """Let 'nobody' read the inputs for the read-only-folder row (pytest's folders are private)."""
    for parent in [folder, *folder.parents]:
        if str(parent) in ("/", "/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o755)


def test_the_doc_table_is_the_one_the_tests_check():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from write_bad_input_table import DOC_PATH, table_text

    with open(DOC_PATH, encoding="utf-8") as handle:
        committed = handle.read()
    assert committed == table_text(), (
        "docs/BAD_INPUT.md differs from the tables in tests/support/bad_inputs.py; run "
        "'.venv/bin/python tests/algorithms/write_bad_input_table.py' and commit the result."
    )


def test_every_module_with_rows_is_in_the_doc():
    """A test module's REFUSED_ROWS or ACCEPTED_ROWS reach the doc only through ROW_MODULES."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from write_bad_input_table import ROW_MODULES, TESTS

    with_rows = []
    for folder, _, names in os.walk(TESTS):
        for name in names:
            path = os.path.join(folder, name)
            if name.endswith(".py") and path != os.path.abspath(__file__):
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
                if any(f"\n{table} = [" in text for table in ("REFUSED_ROWS", "ACCEPTED_ROWS", "NEW_ROWS")):
                    with_rows.append(os.path.relpath(path, TESTS))
    assert sorted(with_rows) == sorted(ROW_MODULES)
