"""Installing into the dependencies folder with real pip, from tiny wheels written under tmp_path:
what QGIS's Python already has stays out of the folder, numpy is never touched, a cancel or a
failure leaves no folder, an index pip cannot reach is said so with the command to run."""

import base64
import hashlib
import os
import subprocess
import sys
import zipfile

import numpy
import pytest

from water_logreg_plugin.core.callbacks import Callbacks
from water_logreg_plugin.core.install.pip_runner import (
    SCRATCH_PREFIX,
    install_torch,
    modules_loaded_elsewhere,
    uninstall,
)
from water_logreg_plugin.core.install.plan import PipPlan, protected_pins


def write_wheel(folder, name, version, requires=(), module_text="VALUE = 1\n"):
    """A pure-Python wheel with one module, `name`, and its Requires-Dist lines."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": module_text,
        f"{dist_info}/METADATA": "".join(
            [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
            + [f"Requires-Dist: {requirement}\n" for requirement in requires]),
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist_info}/RECORD"] = "\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n"
    path = os.path.join(folder, f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


def pip_alone():
    """This environment with no pip configuration: only the options a test gives reach pip."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull
    return environment


@pytest.fixture
def local_index(tmp_path):
    """A folder of wheels: tinywater needs tinydep (missing here), numpy and MarkupSafe (which this
    Python has), and a numpy wheel that must never be installed over the one this Python has."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels, "tinywater", "1.0", ["tinydep>=2", "numpy", "MarkupSafe"])
    write_wheel(wheels, "tinydep", "2.1")
    write_wheel(wheels, "numpy", "99.0")
    return str(wheels)


def plan_for(tmp_path, wheels, requirement="tinywater==1.0", **options):
    return PipPlan(python=sys.executable, dependencies_folder=str(tmp_path / "profile" / "python" / "dependencies"),
                   requirement=requirement, extra_options=f"--no-index --find-links {wheels}",
                   protected=tuple(protected_pins(sys.path)), **options)


def test_only_what_this_python_lacks_goes_into_the_folder(tmp_path, local_index):
    lines = []
    outcome = install_torch(plan_for(tmp_path, local_index), Callbacks(log=lines.append), pip_alone())
    assert outcome.status == "installed", outcome.message
    assert sorted(outcome.installed) == ["tinydep==2.1", "tinywater==1.0"]
    folder = tmp_path / "profile" / "python" / "dependencies"
    assert sorted(name for name in os.listdir(folder) if name.endswith(".py")) == ["tinydep.py", "tinywater.py"]
    assert not any(name.lower().startswith(("numpy", "markupsafe")) for name in os.listdir(folder))
    # Nothing beside the folder: the scratch folder with the constraints and pip's report is gone.
    assert os.listdir(tmp_path / "profile" / "python") == ["dependencies"]
    assert any(line.startswith("Working out what to install: ") for line in lines)
    checked = subprocess.run([sys.executable, "-c", "import numpy, tinywater; print(numpy.__version__)"],
                             env=dict(os.environ, PYTHONPATH=str(folder)), capture_output=True, text=True)
    assert checked.stdout.strip() == numpy.__version__


def test_numpy_asked_for_by_name_is_refused_by_the_constraint(tmp_path, local_index):
    outcome = install_torch(plan_for(tmp_path, local_index, requirement="numpy==99.0"), environment=pip_alone())
    assert outcome.status == "failed"
    assert "numpy==99.0" in outcome.message
    assert os.listdir(tmp_path / "profile" / "python") == []


def test_a_reinstall_replaces_the_folder_whole_and_uninstall_removes_it(tmp_path, local_index):
    plan = plan_for(tmp_path, local_index)
    folder = tmp_path / "profile" / "python" / "dependencies"
    assert install_torch(plan, environment=pip_alone()).status == "installed"
    (folder / "left_from_before.py").write_text("")
    assert install_torch(plan, environment=pip_alone()).status == "installed"
    assert not (folder / "left_from_before.py").exists()
    uninstall(str(folder))
    assert os.listdir(tmp_path / "profile" / "python") == []


def test_a_cancel_stops_pip_and_leaves_no_folder(tmp_path, local_index):
    lines = []
    system_temporary = tmp_path / "system-tmp"
    system_temporary.mkdir()
    environment = dict(pip_alone(), TMPDIR=str(system_temporary))
    outcome = install_torch(plan_for(tmp_path, local_index),
                            Callbacks(log=lines.append, is_canceled=lambda: len(lines) > 3), environment)
    assert outcome.status == "canceled"
    assert os.listdir(system_temporary) == []  # pip's own temporary folders went with the scratch folder
    assert outcome.message == "Canceled: pip was stopped and nothing was installed."
    assert os.listdir(tmp_path / "profile" / "python") == []


def test_an_index_pip_cannot_reach_is_offline_with_the_exact_command(tmp_path):
    plan = PipPlan(python=sys.executable, dependencies_folder=str(tmp_path / "python" / "dependencies"),
                   requirement="tinywater==1.0", index_url="http://127.0.0.1:9/simple",
                   extra_options="--retries 0 --timeout 2",
                   protected=("numpy==" + numpy.__version__,))
    outcome = install_torch(plan, environment=pip_alone())
    assert outcome.status == "offline", outcome.message
    assert outcome.command == (f"{sys.executable} -m pip install --dry-run --report report.json "
                               "--disable-pip-version-check --no-input --progress-bar off -c constraints.txt "
                               "--index-url http://127.0.0.1:9/simple --retries 0 --timeout 2 tinywater==1.0")
    assert outcome.message.startswith("pip could not reach the package index, so nothing was installed.")
    assert f"constraints.txt holding numpy=={numpy.__version__}:\n{outcome.command}\n" in outcome.message
    assert os.listdir(tmp_path / "python") == []


def test_modules_this_session_loaded_from_elsewhere_are_named(tmp_path):
    (tmp_path / "numpy").mkdir()
    (tmp_path / "_distutils_hack").mkdir()
    (tmp_path / "tinydep.py").write_text("")
    loaded = {"numpy": numpy, "_distutils_hack": numpy, "tinydep": None}
    assert modules_loaded_elsewhere(str(tmp_path), loaded) == ["numpy"]


def test_uninstall_removes_scratch_folders_an_interrupted_install_left(tmp_path):
    (tmp_path / (SCRATCH_PREFIX + "abc") / "dependencies").mkdir(parents=True)
    (tmp_path / "plugins").mkdir()
    uninstall(str(tmp_path / "dependencies"))
    assert os.listdir(tmp_path) == ["plugins"]
