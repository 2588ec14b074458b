"""A tiny tmpfs standing in for a full disk (mounting one needs root; the test is skipped elsewhere)."""

import contextlib
import os
import subprocess

import pytest


@contextlib.contextmanager
def tiny_disk(folder, size):
    """Mount a tmpfs of `size` (e.g. '256k') on the new folder `folder` for the with-block."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True) if os.geteuid() == 0 else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("a small tmpfs cannot be mounted here (needs root)")
    try:
        yield folder
    finally:
        # Lazily: a failed dataset may still be open in the exception pytest keeps.
        subprocess.run(["umount", "-l", str(folder)], check=True)
