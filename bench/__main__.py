"""`python -m bench`: run every benchmark and print its figures."""

from __future__ import annotations

from bench import api, batch, issuing, queue, seal, signing, verification, workflow


def main() -> None:
    workflow.main()
    signing.main()
    issuing.main()
    batch.main()
    seal.main()
    verification.main()
    api.main()
    queue.main([])  # its defaults: a million reports, then the queue's figures


if __name__ == "__main__":
    main()
