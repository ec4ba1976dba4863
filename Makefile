# mmvid developer entry points. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch first and pinned: an unpinned `torch` pulls a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install test demo clean

install: $(STAMP)

$(STAMP): setup.py requirements/runtime.txt requirements/tests.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q $(TORCH_PIN)
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[tests]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest tests

demo: install
	@echo "make demo: the end-to-end demo job arrives with the tools issue (#4)."
	$(BIN)/python -c "import mmvid; print('mmvid', mmvid.__version__, 'installed')"

clean:
	rm -rf $(VENV) work_dirs
