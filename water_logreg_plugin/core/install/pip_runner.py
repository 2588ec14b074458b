"""pip run as a subprocess that a cancel stops at once, torch installed into a scratch folder
that takes the dependencies folder's name only when complete, and the outcome in words."""

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

from ..callbacks import QUIET
from ..errors import Canceled
from .locations import inside

# What pip writes when it cannot reach an index (urllib3's and pip's own words).
UNREACHABLE_SIGNS = (
    "Failed to establish a new connection", "Connection refused", "Network is unreachable",
    "Temporary failure in name resolution", "Name or service not known", "nodename nor servname",
    "getaddrinfo failed", "ProxyError", "Max retries exceeded", "Could not fetch URL",
    "connection broken", "ConnectTimeoutError", "Read timed out", "No route to host",
)
SCRATCH_PREFIX = ".water-logreg-install-"
PYPI = "https://pypi.org/simple/"  # pip's index when its configuration names none


@dataclass(frozen=True)
class InstallOutcome:
    """status: "installed", "offline", "failed" or "canceled"; message: for the dialog;
    command: the resolve command as a terminal line; installed: ["name==version", …]."""

    status: str
    message: str
    command: str = ""
    installed: tuple = ()


def run_pip(argv, callbacks=QUIET, environment=None, on_line=None):
    """Run `argv`, each line of its output to callbacks.log (and on_line); returns (exit status,
    lines). A cancel kills pip's whole process group and raises Canceled."""
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        errors="replace", env=environment, **_own_process_group(),
    )
    # A thread reads pip's output, so the loop below can look at the cancel button every 0.1 s
    # even while pip prints nothing (a long download, an unpack).
    lines_read = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines_read), daemon=True)
    reader.start()
    lines = []
    while True:
        if callbacks.is_canceled():
            _stop(process)
            raise Canceled("Canceled: pip was stopped and nothing was installed.")
        try:
            line = lines_read.get(timeout=0.1).rstrip()
        except queue.Empty:
            if process.poll() is not None and not reader.is_alive() and lines_read.empty():
                return process.wait(), lines
            continue
        lines.append(line)
        callbacks.log(line)
        if on_line:
            on_line(line)


def _read_lines(stream, into):
    for line in stream:
        into.put(line)


def _own_process_group():
    if os.name == "nt":  # and no console window popping up over QGIS
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW}
    return {"start_new_session": True}


def _stop(process):
    try:
        if os.name == "nt":
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # pip had just ended by itself
        pass
    process.wait()


def index_reachable(url, timeout_s=5):
    """Whether `url` answers at all (an HTTP error is an answer), through the same proxy
    variables pip follows."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def failure(status_code, lines, command, protected=(), index_url=""):
    """The outcome of a pip run that failed: offline when its log says it could not reach the
    index, or it found no version at all and the index does not answer; else pip's last lines."""
    last = "\n".join(line for line in lines[-12:] if line.strip())
    found_nothing = any("(from versions: none)" in line for line in lines)
    if any(sign in line for line in lines for sign in UNREACHABLE_SIGNS) or (
            found_nothing and not index_reachable(index_url or PYPI)):
        return InstallOutcome("offline", (
            "pip could not reach the package index, so nothing was installed. Set an index this "
            "computer can reach (an offline mirror) or pip options such as --proxy in the settings "
            "below, or run this command where the index can be reached, with constraints.txt "
            f"holding {' '.join(protected) or 'nothing'}:\n{command}\n\npip said:\n{last}"), command)
    return InstallOutcome("failed", f"pip stopped (exit status {status_code}); nothing was installed.\n{last}",
                          command)


def install_torch(plan, callbacks=QUIET, environment=None):
    """Install what torch needs beyond QGIS's Python into plan.dependencies_folder, or nothing:
    every file is written into a scratch folder beside it, which takes the folder's name whole
    (an earlier folder is replaced); a failure or a cancel removes the scratch folder."""
    parent = os.path.dirname(plan.dependencies_folder)
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=parent)
    command = plan.command_text()
    try:
        return _install_in(scratch, plan, command, callbacks, environment)
    except Canceled as canceled:
        return InstallOutcome("canceled", str(canceled), command)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _install_in(scratch, plan, command, callbacks, environment):
    """install_torch's two pip runs, with every file under `scratch`; `command` is the first, as
    the user would type it."""
    constraints, report = os.path.join(scratch, "constraints.txt"), os.path.join(scratch, "report.json")
    # pip's own temporary folders (a half-unpacked torch when pip is killed) go with the scratch
    # folder, not into the system's temporary folder.
    pip_temporary = os.path.join(scratch, "tmp")
    os.mkdir(pip_temporary)
    environment = dict(os.environ if environment is None else environment,
                       TMPDIR=pip_temporary, TEMP=pip_temporary, TMP=pip_temporary)
    with open(constraints, "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in plan.protected))
    callbacks.log(f"Working out what to install: {command}")
    status_code, lines = run_pip(plan.resolve_argv(constraints, report), callbacks.part(0.0, 0.15), environment)
    if status_code != 0:
        return failure(status_code, lines, command, plan.protected, plan.index_url)
    pins = planned_pins(report)
    refused = refused_pins(pins, plan.protected)
    if refused:
        return InstallOutcome("failed", "pip would replace packages QGIS uses: " + ", ".join(refused), command)
    if not pins:
        return InstallOutcome("installed", f"QGIS's Python already has {plan.requirement}; nothing to install.",
                              command)
    target = os.path.join(scratch, "dependencies")
    status_code, lines = run_pip(plan.install_argv(constraints, target, pins), callbacks.part(0.15, 0.95),
                                 environment, on_line=_progress_by_package(pins, callbacks.part(0.15, 0.95)))
    if status_code != 0:
        return failure(status_code, lines, command, plan.protected, plan.index_url)
    _move_into_place(target, plan.dependencies_folder)
    callbacks.progress(1.0)
    return InstallOutcome("installed", f"Installed into {plan.dependencies_folder}: {', '.join(pins)}.",
                          command, tuple(pins))


def planned_pins(report_path):
    """["torch==2.13.0+cpu", …] from pip's installation report (pip ≥ 22.2)."""
    with open(report_path, encoding="utf-8") as handle:
        report = json.load(handle)
    return [f"{item['metadata']['name']}=={item['metadata']['version']}" for item in report.get("install", [])]


def refused_pins(pins, protected):
    """The pins that name a protected package (never expected: the constraints pin them to the
    version QGIS has, which pip then leaves alone)."""
    names = {line.split("==")[0].lower() for line in protected}
    return [pin for pin in pins if pin.split("==")[0].lower() in names]


def _progress_by_package(pins, callbacks):
    """Progress from pip's log: one step per package it starts on."""
    started = []

    def on_line(line):
        if line.startswith(("Collecting ", "Processing ")):
            started.append(line)
            callbacks.progress(min(len(started) / max(len(pins), 1), 1.0) * 0.9)
        elif line.startswith("Installing collected packages"):
            callbacks.progress(0.9)

    return on_line


def _move_into_place(target, folder):
    """`target` takes `folder`'s name; an earlier folder is moved aside first, then removed."""
    if os.path.exists(folder):
        aside = tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=os.path.dirname(folder))
        os.replace(folder, os.path.join(aside, "old"))
        os.replace(target, folder)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(target, folder)


def uninstall(folder):
    """Remove the dependencies folder and any scratch folder an interrupted install left beside it."""
    parent = os.path.dirname(folder)
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    for name in os.listdir(parent) if os.path.isdir(parent) else []:
        if name.startswith(SCRATCH_PREFIX):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def modules_loaded_elsewhere(folder, modules=None):
    """The top-level modules in `folder` that this session already imported from another place
    (Debian's sympy, say): until QGIS restarts, torch would get those. Private helpers are left
    out: Debian's setuptools imports its _distutils_hack into every Python at start, and torch
    never uses it."""
    modules = sys.modules if modules is None else modules
    loaded = []
    for entry in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        name = entry[:-3] if entry.endswith(".py") else entry
        if name.startswith("_"):
            continue
        module = modules.get(name)
        where = getattr(module, "__file__", None) or ""
        if module is not None and not inside(where, folder):
            loaded.append(name)
    return loaded
