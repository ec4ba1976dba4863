# mmvid developer entry points. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
BIN := $(VENV)/bin
# torch first and pinned: an unpinned `torch` pulls a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install test demo clean

install: $(STAMP)

$(STAMP): setup.py pyproject.toml requirements/runtime.txt requirements/tests.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q $(TORCH_PIN)
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[tests]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest tests

DEMO_CONFIG := configs/recognition/i3d/i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py
DEMO_DIR := work_dirs/demo
# The same model and schedule on 1-frame clips: near chance, as the classes
# differ only in motion.
ABLATION_CONFIG := configs/recognition/i3d/i3d_r18-tiny_8xb1-1x1x1-12e_synthetic-rgb.py
ABLATION_DIR := work_dirs/demo_1frame
top1 = $$(grep '^top1_acc' $(1)/test_metrics.txt | cut -d' ' -f2)

# Synthetic data -> train (validating) -> test (result.json) -> benchmark,
# then the 1-frame ablation (train and test).
demo: install
	$(BIN)/python tools/data/generate_synthetic.py data/synthetic
	$(BIN)/python tools/train.py $(DEMO_CONFIG) --validate --seed 0 --deterministic --work-dir $(DEMO_DIR)
	$(BIN)/python tools/test.py $(DEMO_CONFIG) $$(cat $(DEMO_DIR)/last_checkpoint) \
		--eval top_k_accuracy mean_class_accuracy --out $(DEMO_DIR)/result.json \
		--work-dir $(DEMO_DIR)/test | tee $(DEMO_DIR)/test_metrics.txt
	$(BIN)/python tools/analysis/benchmark.py $(DEMO_CONFIG) --checkpoint $$(cat $(DEMO_DIR)/last_checkpoint)
	$(BIN)/python tools/train.py $(ABLATION_CONFIG) --validate --seed 0 --deterministic --work-dir $(ABLATION_DIR)
	$(BIN)/python tools/test.py $(ABLATION_CONFIG) $$(cat $(ABLATION_DIR)/last_checkpoint) \
		--eval top_k_accuracy mean_class_accuracy --work-dir $(ABLATION_DIR)/test \
		| tee $(ABLATION_DIR)/test_metrics.txt
	@echo "demo test top-1: $(call top1,$(DEMO_DIR)) (16-frame clips; results in $(DEMO_DIR))"
	@echo "1-frame ablation test top-1: $(call top1,$(ABLATION_DIR)) (chance: 0.125)"

clean:
	rm -rf $(VENV) work_dirs
