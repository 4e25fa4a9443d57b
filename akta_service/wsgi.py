"""WSGI entry point for production servers: `gunicorn akta_service.wsgi:app`."""

import logging

from akta_service.akta.seal_keys import announce_seal_keys
from akta_service.app import create_app
from akta_service.core.collector import keep_loaded_out_of_collector

app = create_app()
with app.app_context():
    # The seal token opens once per process, now: what holds the keys, or what is missing
    # (then /readyz says so too).
    logging.getLogger("akta_service.akta").info("%s", announce_seal_keys())

# Everything loaded so far lives as long as the process: the collector need not walk it
# again on every full collection, which would otherwise pause a request for tens of ms.
keep_loaded_out_of_collector()
