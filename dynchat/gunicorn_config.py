"""gunicorn settings, shared by `manage.py run` and docker-compose (gunicorn -c python:...)."""

from __future__ import annotations

import os

# In a container gunicorn must listen on every interface; `manage.py run` sets BIND=127.0.0.1.
bind = [f"{os.environ.get('BIND', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"]  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
# Recycle workers now and then (leaks), but rarely: a restart costs a second of start-up.
max_requests = 200_000
max_requests_jitter = 20_000
accesslog = "-"
# No runtime control socket: nothing should write outside the data directory.
control_socket_disable = True
# Conversation tokens travel in headers, never in URLs, so the request line is safe to log.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms'
