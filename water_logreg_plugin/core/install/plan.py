"""What pip is asked to do: torch's build, the package index, the constraints, as argv.

Two pip runs install torch (pip_runner.install_torch):
1. resolve: `pip install --dry-run --report` in QGIS's own environment, so pip lists only what
   QGIS's Python lacks or has too old for torch, with the protected packages pinned;
2. install: exactly those, `--no-deps`, into a scratch folder beside the dependencies folder,
   which then takes its name whole.
`pip install --target` alone would ignore what QGIS already has and put a second copy of every
dependency into the folder; resolving first keeps the folder to what is missing.
"""

import importlib.machinery
import importlib.metadata
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field

# The version the project tests (pyproject.toml, constraints.txt).
TORCH_REQUIREMENT = "torch==2.13.0"
# Always pinned to the version QGIS has: GDAL's and QGIS's own bindings are built against it.
ALWAYS_PROTECTED = ("numpy",)
COMPILED_SUFFIXES = tuple(set(importlib.machinery.EXTENSION_SUFFIXES) | {".so", ".pyd"})
# A version pip reads in a constraint (PEP 440, local part included); Debian's odd ones are skipped.
PIP_VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[A-Za-z0-9.]+)?$")


@dataclass(frozen=True)
class TorchBuild:
    key: str
    label: str
    approximate_size: str
    public_index: str  # PyTorch's own index for this build; used only when the user picks it


BUILDS = {
    "cpu": TorchBuild("cpu", "CPU", "about 200 MB to download, 0.9 GB installed",
                      "https://download.pytorch.org/whl/cpu"),
    "cuda": TorchBuild("cuda", "CUDA 12.8 (NVIDIA GPU)", "about 4.7 GB with its nvidia-* packages",
                       "https://download.pytorch.org/whl/cu128"),
}


@dataclass(frozen=True)
class PipPlan:
    """One install of torch. index_url "" means pip's own configuration (pip.conf, PIP_* variables:
    an offline mirror or a company proxy set up for pip works unchanged); extra_options are
    further pip options from the settings, split as a shell would."""

    python: str
    dependencies_folder: str
    build: TorchBuild = BUILDS["cpu"]
    requirement: str = TORCH_REQUIREMENT
    index_url: str = ""
    extra_options: str = ""
    protected: tuple = field(default=())  # "name==version" lines for the constraints file
    platform: str = sys.platform

    @property
    def pip_requirement(self):
        """What pip is asked for. On Linux PyPI's torch is the CUDA build (about 4.7 GB with its
        nvidia-* wheels); the CPU build is torch==…+cpu from PyTorch's CPU index, so the CPU
        choice asks for +cpu, which no other build satisfies."""
        return self.requirement + "+cpu" if self._cpu_build_from_pytorch() else self.requirement

    def _cpu_build_from_pytorch(self):
        return (self.build.key == "cpu" and self.platform.startswith("linux") and self.requirement == TORCH_REQUIREMENT
                and self.index_url in ("", self.build.public_index))

    def common_options(self, constraints_path):
        options = ["--disable-pip-version-check", "--no-input", "--progress-bar", "off",
                   "-c", constraints_path]
        if self.index_url:
            options += ["--index-url", self.index_url]
        elif self._cpu_build_from_pytorch():
            # An extra index: a mirror set up for pip still serves torch's own dependencies.
            options += ["--extra-index-url", self.build.public_index]
        return options + shlex.split(self.extra_options)

    def resolve_argv(self, constraints_path, report_path):
        """pip's resolver in QGIS's environment: the report lists what would be installed."""
        return [self.python, "-m", "pip", "install", "--dry-run", "--report", report_path,
                *self.common_options(constraints_path), self.pip_requirement]

    def install_argv(self, constraints_path, target, pins):
        """Exactly `pins` (name==version), no dependencies of their own, into `target`."""
        return [self.python, "-m", "pip", "install", "--no-deps", "--target", target,
                "--no-warn-script-location", *self.common_options(constraints_path), *pins]

    def command_text(self):
        """The command the installer runs first, as a terminal line for the user: the constraints
        file it names holds the lines of `protected`, and the report lists what to install."""
        argv = self.resolve_argv("constraints.txt", "report.json")
        return subprocess.list2cmdline(argv) if os.name == "nt" else shlex.join(argv)


def protected_pins(path_entries):
    """["numpy==1.24.2", …]: the distributions importable from `path_entries` (QGIS's sys.path
    without the dependencies folder) that pip must leave as they are: numpy, and every
    distribution with compiled modules (GDAL, PyQt5, MarkupSafe …), whose binaries QGIS's
    libraries load or are built against. The first of a name on the path wins, as for import."""
    pins, seen = [], set()
    for distribution in importlib.metadata.distributions(path=[entry or "." for entry in path_entries]):
        name = (distribution.metadata["Name"] or "").strip()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if not name or key in seen:
            continue
        seen.add(key)
        if PIP_VERSION.match(distribution.version or "") and (
                key in ALWAYS_PROTECTED or has_compiled_modules(distribution)):
            pins.append(f"{name}=={distribution.version}")
    return pins


def has_compiled_modules(distribution):
    """Whether a distribution ships extension modules: from its file list (RECORD), or where a
    distribution's package manager kept none (Debian's .egg-info), from its top-level packages."""
    files = distribution.files
    if files is not None:
        return any(str(path).endswith(COMPILED_SUFFIXES) for path in files)
    top_level = distribution.read_text("top_level.txt") or ""
    base = str(distribution.locate_file(""))
    for name in top_level.split():
        package = os.path.join(base, name)
        if os.path.isdir(package):
            if any(file.endswith(COMPILED_SUFFIXES) for _, _, names in os.walk(package) for file in names):
                return True
        elif any(entry.startswith(name + ".") and entry.endswith(COMPILED_SUFFIXES)
                 for entry in _listing(base)):
            return True
    return False


def _listing(folder):
    try:
        return os.listdir(folder)
    except OSError:
        return []
