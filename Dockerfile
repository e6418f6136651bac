# Ladder, mirroring `make run`'s install and serve steps: pinned deps from the lock, migrate, uvicorn.
# Production settings come from the environment: DATABASE_URL (postgresql+psycopg://…), LADDER_SECRET_KEY
# (48 random characters); LADDER_DEMO_MODE stays off. WEB_CONCURRENCY: uvicorn worker processes, one per core
# (a request is mostly Python CPU: one process uses one core; docs/benchmarks.md compares 1 and 2).
# Background jobs (large imports) need a worker: run a second container from this image with the same
# environment plus LADDER_HUEY_URL=redis://…, as `docker run … ladder huey_consumer app.jobs.huey --workers 2`
# (the web containers get LADDER_HUEY_URL too, so that they queue to the same Redis).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////srv/ladder/var/ladder.db \
    WEB_CONCURRENCY=2

WORKDIR /srv/ladder

COPY requirements.lock ./
RUN pip install --no-input -r requirements.lock

COPY pyproject.toml alembic.ini ./
COPY app/ app/
COPY migrations/ migrations/
COPY templates/ templates/
COPY static/ static/
COPY seeds/ seeds/
# Editable, like `make run`: app.config finds templates/ and static/ beside the package.
RUN pip install --no-input --no-deps -e . \
    && useradd --system --create-home --home-dir /home/ladder --uid 10001 ladder \
    && mkdir -p var/files \
    && chown -R ladder:ladder var

USER ladder
EXPOSE 8000
CMD ["sh", "-c", "alembic upgrade head && exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --proxy-headers"]
