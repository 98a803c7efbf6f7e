"""Gunicorn settings for Vitrina in production (used by `vitrina serve`).

Use directly with:  gunicorn -c python:server.gunicorn_conf 'server.wsgi:make_app()'
Every value can be overridden by the environment variable named beside it.
"""

import os

from server import metrics as _metrics

#: Address to listen on (VITRINA_BIND). Behind a reverse proxy keep it on 127.0.0.1.
bind = os.environ.get("VITRINA_BIND", "127.0.0.1:8000")
#: Worker processes (VITRINA_WORKERS): about one per core.
workers = int(os.environ.get("VITRINA_WORKERS", str(max(2, os.cpu_count() or 2))))
#: Threaded workers, so long-polling displays do not block the admin UI.
worker_class = "gthread"
#: Threads per worker (VITRINA_THREADS): each long-polling display holds one while it
#: waits (cheaply: one thread per process watches the change counter for all of them), so
#: workers × threads should exceed the number of displays served.
threads = int(os.environ.get("VITRINA_THREADS", "64"))
#: A worker silent for this long (seconds) is restarted; long polls wait ≤ 55 s.
timeout = int(os.environ.get("VITRINA_TIMEOUT", "60"))
graceful_timeout = 30
#: Keep connections from displays open between polls.
keepalive = 10
#: Recycle workers now and then so a slow leak cannot grow for ever (rarely: thousands of
#: displays poll every few seconds, and a fresh worker starts with empty manifest caches).
max_requests = 200000
max_requests_jitter = 20000
#: Access log to stdout in the combined format with the request time (VITRINA_ACCESS_LOG="" off).
accesslog = os.environ.get("VITRINA_ACCESS_LOG", "-") or None
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
errorlog = "-"
loglevel = os.environ.get("VITRINA_LOG_LEVEL", "info")
#: Trust X-Forwarded-* only from the local reverse proxy.
forwarded_allow_ips = os.environ.get("VITRINA_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "vitrina"


def on_starting(server):  # type: ignore[no-untyped-def]
    """Before the first worker: the folder workers add up their metrics through."""
    _metrics.prepare_multiprocess()


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A worker ended: its live values leave the metrics."""
    _metrics.worker_exited(worker.pid)


def on_exit(server):  # type: ignore[no-untyped-def]
    """The server stops: remove the metrics folder it made."""
    _metrics.server_stopped()
