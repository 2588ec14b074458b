"""A tool's windows made small, so a test compares many windows with the one a small raster takes."""


def windows_of_rows(monkeypatch, module, rows=7):
    """Make `module`'s row_windows give windows of `rows` rows (the last one shorter), whatever
    the raster's blocks."""

    def small(dataset):
        height = dataset.RasterYSize
        return [(row, min(rows, height - row)) for row in range(0, height, rows)]

    monkeypatch.setattr(module, "row_windows", small)
