"""A tool's reading handles, counted or held to one, so a test compares the two ways of reading."""


def record_reading_handles(monkeypatch, module):
    """Let `module`'s reading_handles run as it is and keep what it gives each run; returns that list."""
    given, original = [], module.reading_handles

    def recorded(dataset, windows):
        given.append(original(dataset, windows))
        return given[-1]

    monkeypatch.setattr(module, "reading_handles", recorded)
    return given


def one_reading_handle(monkeypatch, module):
    """Make `module` read through the dataset it opened alone, one window at a time."""
    monkeypatch.setattr(module, "reading_handles", lambda dataset, windows: [dataset])
