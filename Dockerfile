# Timescales over HTTP (`timescales serve`), installed from uv.lock (not editable), run as a
# non-root user. Build: docker build -t timescales .  Run: see compose.yaml and deploy/README.md.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/timescales
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock README.md LICENSE MANIFEST.in ./
COPY bot bot
COPY rules rules
COPY scheduler scheduler
COPY store store
RUN uv sync --locked --no-editable

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /srv/timescales timescales
COPY --from=build /opt/timescales /opt/timescales
COPY alembic.ini /opt/timescales/alembic.ini
ENV PATH=/opt/timescales/bin:$PATH PYTHONUNBUFFERED=1 TIMESCALES_CONFIG=/etc/timescales/timescales.toml
USER timescales
WORKDIR /srv/timescales
EXPOSE 3000
# /ready: the store answers and its schema is current (GET /health only says the process answers).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/ready', timeout=4).status != 200)"]
# SIGTERM: stop taking requests, finish what is in hand within 25 s, exit 0 (give it 30).
STOPSIGNAL SIGTERM
CMD ["timescales", "serve", "--port", "3000"]
