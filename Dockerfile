FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/salescoach.db \
    SALESCOACH_CACHE_DIR=/app/cache

# graphviz: `salescoach graph --format png|svg` draws with its dot
RUN apt-get update && apt-get install -y --no-install-recommends graphviz && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY knowledge ./knowledge
COPY storage ./storage
RUN pip install --no-cache-dir . \
    && python -c "from dialogs.understanding.learned import act_model, spin_model; spin_model(); act_model()" \
    && useradd --create-home --uid 10001 salescoach \
    && mkdir -p /data && chown salescoach /data

USER salescoach
VOLUME ["/data"]
CMD ["salescoach", "run"]
