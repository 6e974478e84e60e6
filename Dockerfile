# syntax=docker/dockerfile:1
# slo-agent image. The build stage makes a wheel and installs it into a virtualenv; the runtime
# stage gets that virtualenv only: no compiler, no pip/uv run there, a fixed non-root user.
#
#   docker build -t slo-agent .
#   docker run --rm -p 9464:9464 -v "$PWD/slo_specs/examples:/etc/slo-agent/specs:ro" \
#     -v slo-agent-store:/var/lib/slo-agent -e ACME_TOKEN=... slo-agent

FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never
RUN pip install uv==0.13.9
WORKDIR /src
COPY pyproject.toml README.md ./
COPY agent ./agent
COPY exporters ./exporters
RUN uv build --wheel --out-dir /wheels . \
 && uv venv --python /usr/local/bin/python3.11 /opt/slo-agent \
 && uv pip install --python /opt/slo-agent/bin/python --compile-bytecode /wheels/slo_agent-*.whl

FROM python:3.11.13-slim-bookworm AS runtime
RUN groupadd --gid 10001 slo-agent \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/slo-agent \
      --shell /usr/sbin/nologin slo-agent \
 && mkdir -p /etc/slo-agent/specs /var/lib/slo-agent \
 && chown 10001:10001 /var/lib/slo-agent
COPY --from=build /opt/slo-agent /opt/slo-agent
ENV PATH=/opt/slo-agent/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SLO_AGENT_SPECS=/etc/slo-agent/specs \
    SLO_AGENT_STORE=/var/lib/slo-agent/store.db
USER 10001:10001
WORKDIR /var/lib/slo-agent
# Specs are read from /etc/slo-agent/specs (mount them read-only); the SQLite store lives in
# this volume. The agent listens on all interfaces only because the arguments below say so.
VOLUME ["/var/lib/slo-agent"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
ENTRYPOINT ["slo-agent", "run"]
CMD ["--listen", "0.0.0.0:9464", "--store", "/var/lib/slo-agent/store.db", "/etc/slo-agent/specs"]
