"""Reading back what the HTML report states: its numbers (data attributes) and its images."""

import base64
import math
from dataclasses import dataclass, field
from html.parser import HTMLParser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class Report:
    figures: dict = field(default_factory=dict)
    coefficients: dict = field(default_factory=dict)  # (band, kind) → value
    reliability: dict = field(default_factory=dict)  # (bin number, kind) → value
    counts: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    images: dict = field(default_factory=dict)  # id → (alt, png bytes)
    polygons: dict = field(default_factory=dict)  # feature id → {column: text}, the polygon check's rows
    text: str = ""


class _Reader(HTMLParser):
    KINDS = {"data-figure": "figures", "data-count": "counts", "data-setting": "settings", "data-timing": "timings"}

    def __init__(self):
        super().__init__()
        self.report = Report()
        self.band = None
        self.bin = None
        self.polygon = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tr":
            self.band = attributes.get("data-band")
            self.bin = attributes.get("data-bin")
            self.polygon = attributes.get("data-polygon")
        if tag == "img":
            prefix = "data:image/png;base64,"
            assert attributes["src"].startswith(prefix), attributes.get("id")
            image = base64.b64decode(attributes["src"][len(prefix):])
            self.report.images[attributes["id"]] = (attributes["alt"], image)
        for attribute, kind in self.KINDS.items():
            if attribute in attributes:
                table = getattr(self.report, kind)
                assert attributes[attribute] not in table, f"{attributes[attribute]} appears twice"
                table[attributes[attribute]] = _value(attributes["data-value"], kind)
        if "data-coefficient" in attributes:
            self.report.coefficients[self.band, attributes["data-coefficient"]] = float(attributes["data-value"])
        if "data-polygon-check" in attributes:
            row = self.report.polygons.setdefault(int(self.polygon), {})
            row[attributes["data-polygon-check"]] = attributes["data-value"]
        if "data-reliability" in attributes:
            self.report.reliability[int(self.bin), attributes["data-reliability"]] = float(attributes["data-value"])

    def handle_data(self, data):
        self.report.text += data


def _value(text, kind):
    if kind == "settings":
        return text
    number = float(text)
    return int(number) if kind == "counts" and not math.isnan(number) and number.is_integer() else number


def read_report(path):
    reader = _Reader()
    with open(path, encoding="utf-8") as handle:
        reader.feed(handle.read())
    return reader.report


def png_size(data):
    """(width, height) of a PNG, checking that it is one."""
    assert data.startswith(PNG_MAGIC) and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
