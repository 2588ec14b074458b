"""What the installer's dialog says it will install, from where: the build pip will really fetch."""

import html
import platform

import pytest

from water_logreg_plugin.core.install.plan import BUILDS, PipPlan
from water_logreg_plugin.installer.dialog import what_and_where

pytestmark = pytest.mark.skipif(platform.system() != "Linux", reason="PyPI's torch is the CUDA build on Linux only")

HINT = (" PyPI's torch is the CUDA build on this system; for the CPU build choose PyTorch's index "
        "(https://download.pytorch.org/whl/cpu) or a mirror of it.")


def words(build="cpu", index_url=""):
    plan = PipPlan("/usr/bin/python3", "/profile/python/dependencies", BUILDS[build], index_url=index_url,
                   protected=("numpy==1.24.2", "shapely==2.0.1"), platform="linux")
    return html.unescape(what_and_where(plan))


def test_pips_own_configuration_asks_for_the_cpu_build_by_name_from_pytorchs_index():
    text = words()
    assert text.startswith("<b>What:</b> torch==2.13.0+cpu (PyTorch), CPU build")
    assert text.endswith("from pip's own configuration and PyTorch's CPU index "
                         "(https://download.pytorch.org/whl/cpu), the home of the CPU build.")
    assert "numpy==1.24.2 and 1 other compiled packages are pinned" in text


@pytest.mark.parametrize("pypi", ["https://pypi.org/simple", "https://pypi.org/simple/"])
def test_pypi_named_for_the_cpu_build_says_pypi_gives_the_cuda_build(pypi):
    text = words(index_url=pypi)
    assert text.startswith("<b>What:</b> torch==2.13.0 (PyTorch), CPU build")
    assert text.endswith(f"from {pypi}.{HINT}")


def test_a_mirror_or_the_cuda_build_gets_no_hint():
    assert words(index_url="https://mirror.example/simple").endswith("from https://mirror.example/simple.")
    assert words("cuda").endswith("from pip's own configuration.")
    assert words("cuda", "https://pypi.org/simple").endswith("from https://pypi.org/simple.")
