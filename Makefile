# The README's first two commands: `make demo` and `make test`.
# Both run the setup first; it is a no-op (under a second) when already done.
PY := .venv/bin/python
DEMO_DIR ?= work_dirs/demo

.PHONY: setup demo test clean-demo

setup:
	@bash tools/setup_env.sh

demo: setup
	@$(PY) tools/demo.py --work-dir $(DEMO_DIR)

# Both cores. --dist loadgroup spreads the tests over both workers but keeps each
# xdist_group (the modules whose tests share a trained demo) on one, so it is trained once.
test: setup
	@$(PY) -m pytest tests -q -n 2 --dist loadgroup --durations=10

clean-demo:
	rm -rf $(DEMO_DIR)
