# Everyday commands; see README.md.
.PHONY: install test lint bench ext

install:
	pip install -e ".[test]"

ext:
	python setup.py build_ext --inplace

test:
	GRIDPLAN_REQUIRE_EXT=1 pytest

lint:
	ruff check gridplan tests benchmarks cases/builders
	ruff format --check gridplan tests benchmarks cases/builders

bench:
	pip install -e ".[bench]"
	python benchmarks/contingency.py
	python benchmarks/timeseries.py
	python benchmarks/reliability.py
	python benchmarks/ev.py
