# Every target installs what it needs by itself (guarded: fast on a second run).
.PHONY: demo run test lint typecheck unit bench golden venv tools helm chart-files

VENV := .venv/bin

venv:
	@bash scripts/bootstrap.sh

# Debian tools the test suite runs for real: Prometheus + promtool, Alertmanager, Chromium
# (headless, for the status page test), dnsmasq (the dns probe kind's tests) and tinyproxy (a
# forward proxy for the proxy tests).
tools:
	@bash scripts/ensure-debs.sh promtool=prometheus prometheus-alertmanager=prometheus-alertmanager \
	  chromium=chromium dnsmasq=dnsmasq-base tinyproxy=tinyproxy

# helm (official binary, sha256-checked) into .tools/, and kubernetes-validate into .venv,
# for the chart tests.
helm: venv
	@python3 scripts/fetch-helm.py >/dev/null
	@$(VENV)/python -c 'import kubernetes_validate' 2>/dev/null || \
	  { command -v uv >/dev/null 2>&1 && UV=uv || UV="python3 -m uv"; \
	    VIRTUAL_ENV=$(CURDIR)/.venv $$UV pip install --quiet 'kubernetes-validate>=1.32'; }

# Files the Helm chart carries: the PrometheusRule of its default specs, the dashboards.
chart-files: venv
	@$(VENV)/python scripts/chart-files.py

demo: venv
	@$(VENV)/slo-agent demo

run: venv
	@$(VENV)/slo-agent run

lint: venv
	@$(VENV)/ruff check agent exporters tests bench scripts
	@$(VENV)/ruff format --check agent exporters tests bench scripts

typecheck: venv
	@$(VENV)/mypy

unit: venv tools helm
	@$(VENV)/pytest -q

test: lint typecheck unit

bench: venv
	@bash scripts/ensure-debs.sh nginx=nginx prometheus-blackbox-exporter=prometheus-blackbox-exporter
	@$(VENV)/python -m bench.probe_throughput
