# Every target does its own set-up on a fresh Debian 12 / Ubuntu machine, and is idempotent.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export QT_QPA_PLATFORM := offscreen
export DEBIAN_FRONTEND := noninteractive
SYSTEM_PACKAGES := qgis python3-qgis qgis-providers gdal-bin python3-gdal python3-venv xvfb xauth

# For `make dev-link`: the python/plugins folder of the QGIS profile to develop in.
QGIS_PLUGINS ?= $(HOME)/.local/share/QGIS/QGIS3/profiles/default/python/plugins

.PHONY: help help-page system venv demo demo-landsat test test-qgis lint bench package dev-link clean

help:
	@echo "make demo     map water on the bundled Sentinel-2 clip, model beside NDWI (writes demo_output/)"
	@echo "make demo-landsat  the same on the bundled Landsat 8 clip (blue, green, red; writes demo_output/landsat/)"
	@echo "make test     run the test suite (PYTEST_ARGS=\"-k NAME\" for some of it)"
	@echo "make test-qgis QGIS=3.40  the test suite on QGIS 3.40 (Debian 13) or 3.44 (Debian unstable), in a cached chroot"
	@echo "make bench    side-by-side timings against GDAL, scikit-learn and Orfeo ToolBox"
	@echo "make package  build dist/water_logreg_plugin.zip for 'Install from ZIP'"
	@echo "make dev-link link the plugin folder into a QGIS profile (QGIS_PLUGINS=…/python/plugins)"
	@echo "make lint     ruff over the plugin, tests, benchmarks and demo; flake8-qgis (QGIS API and Qt6 rules) over the plugin"
	@echo "make help-page  rewrite water_logreg_plugin/help/index.html from the algorithms' help texts"

# QGIS and GDAL from the distribution; installed only when missing.
system:
	@if /usr/bin/python3 -c "import qgis.core, osgeo.gdal" 2>/dev/null && command -v xvfb-run >/dev/null \
	    && [ -x /usr/bin/qgis_process.bin ]; then echo "QGIS and GDAL: present"; else \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES); fi

# The requirements of pyproject.toml's [project] with the extras named, one a line (Python ≥ 3.11).
define PROJECT_REQUIREMENTS
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = [project["optional-dependencies"][name] for name in sys.argv[1:]]
print("\n".join(project["dependencies"] + [requirement for extra in extras for requirement in extra]))
endef
export PROJECT_REQUIREMENTS

# The dependencies and the test and dask extras, not the plugin itself (QGIS loads it from its
# folder, the tests from the checkout); Debian's QGIS, GDAL and numpy come through system site-packages.
# numpy is pinned to the distribution's own (GDAL's bindings are built against it, and pip must
# never put a second numpy over it): $(SYSTEM_NUMPY) says `numpy==VERSION` of /usr/bin/python3's.
SYSTEM_NUMPY = $(VENV)/system-numpy.txt
$(VENV)/.installed: pyproject.toml constraints.txt | system
	@[ -x $(PYTHON) ] || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	/usr/bin/python3 -c "import numpy; print('numpy==' + numpy.__version__)" > $(SYSTEM_NUMPY)
	$(PYTHON) -c "$$PROJECT_REQUIREMENTS" test dask > $(VENV)/requirements.txt
	$(PYTHON) -m pip install -q -c constraints.txt -c $(SYSTEM_NUMPY) -r $(VENV)/requirements.txt
	touch $@

venv: $(VENV)/.installed

# The help page the Help button opens; tests/algorithms/test_help_page.py fails when it is stale.
help-page: venv
	$(PYTHON) -m water_logreg_plugin.help_page

demo: venv
	$(PYTHON) demo/run_demo.py --scene sentinel2 --output demo_output

demo-landsat: venv
	$(PYTHON) demo/run_demo.py --scene landsat --output demo_output/landsat

# Orfeo ToolBox and gdal_calc.py (gdal-bin) are the peers; installed only when missing.
BENCH_PACKAGES := otb-bin libotb-apps gdal-bin
bench: venv
	@if command -v otbcli_ImageClassifier >/dev/null && command -v gdal_calc.py >/dev/null \
	    && command -v gdal_rasterize >/dev/null; then echo "Orfeo ToolBox and GDAL tools: present"; else \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends $(BENCH_PACKAGES); fi
	$(PYTHON) -c "$$PROJECT_REQUIREMENTS" bench > $(VENV)/requirements-bench.txt
	$(PYTHON) -m pip install -q -c constraints.txt -c $(SYSTEM_NUMPY) -r $(VENV)/requirements-bench.txt
	$(PYTHON) benchmarks/run_bench.py
	$(PYTHON) benchmarks/bench_dates.py

# PYTEST_ARGS go to pytest: make test PYTEST_ARGS="-k batch -x".
PYTEST_ARGS ?=
test: venv package
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# The suite on a newer QGIS, in a Debian system cached under /var/cache/water-logreg-plugin
# (.ci/debian_qgis.sh): QGIS=3.40 (Debian 13), 3.44 (Debian unstable) or 3.22 (Debian 12).
test-qgis: export PYTEST_ARGS := $(PYTEST_ARGS)
test-qgis:
	@[ -n "$(QGIS)" ] || { echo "make test-qgis QGIS=3.40 (or 3.44, 3.22) [PYTEST_ARGS=…]" >&2; exit 2; }
	$(SUDO) .ci/debian_qgis.sh $(QGIS) test PYTEST_ARGS="$$PYTEST_ARGS"

lint: venv
	$(VENV)/bin/ruff check water_logreg_plugin tests benchmarks demo docs
	$(VENV)/bin/flake8 --select=QGS1,QGS4 water_logreg_plugin

package:
	@rm -rf dist/build && mkdir -p dist/build
	cp -rL water_logreg_plugin dist/build/
	cp LICENSE dist/build/water_logreg_plugin/
	find dist/build -name __pycache__ -prune -exec rm -rf {} +
	rm -f dist/water_logreg_plugin.zip
	cd dist/build && /usr/bin/python3 -c "import shutil; shutil.make_archive('../water_logreg_plugin', 'zip', '.', 'water_logreg_plugin')"
	rm -rf dist/build
	@echo "dist/water_logreg_plugin.zip"

# The plugin folder holds metadata.txt (a link to the top-level one), so linked into a profile it
# loads as it is; enable it in Plugins → Manage and Install Plugins, or with qgis_process plugins enable.
dev-link:
	mkdir -p "$(QGIS_PLUGINS)"
	ln -sfn "$(CURDIR)/water_logreg_plugin" "$(QGIS_PLUGINS)/water_logreg_plugin"
	@echo "$(QGIS_PLUGINS)/water_logreg_plugin -> $(CURDIR)/water_logreg_plugin"

clean:
	rm -rf dist demo_output .pytest_cache
