"""WSGI entry point for production servers: `gunicorn akta_service.wsgi:app`."""

import gc

from akta_service.app import create_app

app = create_app()

# Everything loaded so far lives as long as the process: the collector need not walk it
# again on every full collection, which would otherwise pause a request for tens of ms.
gc.collect()
gc.freeze()
