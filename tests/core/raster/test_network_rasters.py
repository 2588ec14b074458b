"""A raster read over HTTP (/vsicurl/) that is not there, or not for us, says what the server
answered; one that is there reads as a local file does. In both of GDAL's exception modes (QGIS 3.40+ Processing
turns them on)."""

import http.server
import os
import re
import socket
import threading

import pytest
from support.synthetic import water_scene, write_raster

from water_logreg_plugin.core.errors import WaterLogRegError
from water_logreg_plugin.core.raster.reading import open_raster

ADVICE = ". Check the address, and that this machine can reach it."

# Rows for docs/BAD_INPUT.md's "Refused" table (write_bad_input_table.py collects them).
# Through QGIS the layer is QGIS's to load first; these reach the plugin's own reading through
# Predict water on many scenes (SCENES, FOLDER) and the command line.
REFUSED_ROWS = [
    ("A /vsicurl/ address that answers 404", "Predict water on many scenes (the scene fails), the command line",
     "The raster '/vsicurl/http://<host>/missing.tif' cannot be opened: the server has no file at that address "
     "(HTTP 404 Not Found)" + ADVICE),
    ("A /vsicurl/ address that answers 403", "Predict water on many scenes (the scene fails), the command line",
     "The raster '/vsicurl/http://<host>/403.tif' cannot be opened: the server answers HTTP 403 Forbidden; the "
     "address may need a key or a login" + ADVICE),
]


class Files(http.server.BaseHTTPRequestHandler):
    """The folder's files with byte ranges (GDAL reads a GeoTIFF by ranges), 404 for a missing
    one, and a path named after a status code answered with that code."""

    folder = None

    def log_message(self, *arguments):
        pass

    def do_HEAD(self):  # noqa: N802
        self.answer(body=False)

    def do_GET(self):  # noqa: N802
        self.answer(body=True)

    def answer(self, body):
        name = self.path.strip("/")
        code = name.split(".")[0]
        path = os.path.join(self.folder, name)
        if code.isdigit() or not os.path.isfile(path):
            self.send_response(int(code) if code.isdigit() else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as handle:
            data = handle.read()
        wanted = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if wanted:
            start, end = int(wanted.group(1)), int(wanted.group(2) or len(data) - 1)
            part = data[start:end + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{start + len(part) - 1}/{len(data)}")
        else:
            part = data
            self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        if body:
            self.wfile.write(part)


@pytest.fixture
def server(tmp_path):
    write_raster(tmp_path / "scene.tif", water_scene(rows=20, cols=20)[0])
    handler = type("FilesOfThisTest", (Files,), {"folder": str(tmp_path)})
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{web.server_address[1]}"
    web.shutdown()
    web.server_close()


def refusal(path):
    with pytest.raises(WaterLogRegError) as refused:
        open_raster(path)
    return str(refused.value)


def test_404_is_said_as_such(server, gdal_exceptions):
    assert refusal(f"/vsicurl/http://{server}/missing.tif") == REFUSED_ROWS[0][2].replace("<host>", server)


def test_403_is_said_with_its_meaning(server, gdal_exceptions):
    assert refusal(f"/vsicurl/http://{server}/403.tif") == REFUSED_ROWS[1][2].replace("<host>", server)


def test_a_server_error_is_the_servers(server, gdal_exceptions):
    assert refusal(f"/vsicurl/http://{server}/503.tif") == (
        f"The raster '/vsicurl/http://{server}/503.tif' cannot be opened: the server answers HTTP 503 Service "
        "Unavailable" + ADVICE)


def test_nobody_listening(tmp_path, gdal_exceptions):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert refusal(f"/vsicurl/http://127.0.0.1:{port}/scene.tif") == (
        f"The raster '/vsicurl/http://127.0.0.1:{port}/scene.tif' cannot be opened: the server does not answer "
        "(no connection)" + ADVICE)


def test_a_raster_that_is_there_reads(server, gdal_exceptions):
    dataset = open_raster(f"/vsicurl/http://{server}/scene.tif")
    assert (dataset.RasterXSize, dataset.RasterCount) == (20, 3)


def test_a_local_file_that_is_not_there_is_said_as_before(tmp_path, gdal_exceptions):
    assert refusal(str(tmp_path / "missing.tif")).startswith(f"The raster '{tmp_path / 'missing.tif'}' cannot be "
                                                             "opened (")
