FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/salescoach.db \
    SALESCOACH_CACHE_DIR=/app/cache \
    MPLCONFIGDIR=/app/cache/matplotlib

# graphviz: `salescoach graph --format png|svg` draws with its dot; tzdata: the TIMEZONE setting's zones;
# fonts-noto-cjk: charts and certificates draw Chinese with it (dialogs/pictures/fonts.py)
RUN apt-get update && apt-get install -y --no-install-recommends graphviz tzdata fonts-noto-cjk && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Every dependency (PostgreSQL's driver and the build tools included) at the version and hash
# requirements.lock pins, so two builds of one commit install the same files. The lock is made
# from pyproject.toml by pip-compile; its header has the command.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY knowledge ./knowledge
COPY storage ./storage
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && python -c "from knowledge.validate import cached_knowledge; from dialogs.roleplay.customer import prepare; from dialogs.understanding.classifier import warm; warm(); [prepare(s) for s in cached_knowledge().scenarios.values()]" \
    && python -c "from dialogs.pictures.fonts import families; families()" \
    && useradd --create-home --uid 10001 salescoach \
    && mkdir -p /data && chown salescoach /data

USER salescoach
VOLUME ["/data"]
# Healthy while the database answers and is at the schema this version expects
# (`salescoach db current` exits 1 otherwise), whatever the mode. docker-compose.yml checks more
# closely: each bot's /healthz (bot/operations.py), which also asks whether the outbox moves.
HEALTHCHECK --interval=60s --timeout=30s --start-period=60s --retries=3 CMD ["salescoach", "db", "current"]
CMD ["salescoach", "run"]
