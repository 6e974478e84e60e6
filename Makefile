# Every target installs what it needs by itself (guarded: fast on a second run).
.PHONY: demo run test lint typecheck unit bench golden venv tools

VENV := .venv/bin

venv:
	@bash scripts/bootstrap.sh

# Debian tools the test suite runs for real: Prometheus + promtool, Alertmanager.
tools:
	@bash scripts/ensure-debs.sh promtool=prometheus prometheus-alertmanager=prometheus-alertmanager

demo: venv
	@$(VENV)/slo-agent demo

run: venv
	@$(VENV)/slo-agent run

lint: venv
	@$(VENV)/ruff check agent exporters tests bench
	@$(VENV)/ruff format --check agent exporters tests bench

typecheck: venv
	@$(VENV)/mypy

unit: venv tools
	@$(VENV)/pytest -q

test: lint typecheck unit

bench: venv
	@bash scripts/ensure-debs.sh nginx=nginx prometheus-blackbox-exporter=prometheus-blackbox-exporter
	@$(VENV)/python -m bench.probe_throughput
