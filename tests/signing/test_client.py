"""What the signing service client keeps for the akta of a batch: per thread, for a while."""

from __future__ import annotations

import threading
from datetime import timedelta

from akta_service.signing.client import SigningReuse, SigningServiceClient

URL = "http://127.0.0.1:9"  # never reached: keeping needs no request


def _in_another_thread(client: SigningServiceClient) -> SigningReuse:
    found: list[SigningReuse] = []
    worker = threading.Thread(target=lambda: found.append(client.reuse()))
    worker.start()
    worker.join()
    return found[0]


def test_one_thread_keeps_its_timestamper_and_ocsp_fetchers_until_forgotten() -> None:
    with SigningServiceClient(URL) as client:
        kept = client.reuse()

        assert client.reuse() is kept
        assert client.timestamper() is kept.timestamper
        # Another issue worker signs in its own event loop: its own fetchers.
        assert _in_another_thread(client).fetchers is not kept.fetchers
        client.forget_reuse()
        assert client.reuse() is not kept


def test_what_is_kept_is_asked_anew_once_its_time_is_up() -> None:
    with SigningServiceClient(URL, reuse_for=timedelta(0)) as client:
        assert client.reuse() is not client.reuse()
