# The Dynchat image for docker-compose.yml: runtime dependencies only, from the hashed lock.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DYNCHAT_VENV=/usr/local

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock

COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input --verbosity 0 \
    && useradd --system --uid 10001 --home-dir /app dynchat \
    && chown -R dynchat /app/var

USER dynchat
EXPOSE 8000
CMD ["gunicorn", "-c", "python:dynchat.gunicorn_config", "dynchat.wsgi"]
