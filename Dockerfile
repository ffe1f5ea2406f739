FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/salescoach.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY knowledge ./knowledge
COPY storage ./storage
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 salescoach \
    && mkdir -p /data && chown salescoach /data

USER salescoach
VOLUME ["/data"]
CMD ["salescoach", "run"]
