"""`python -m bench`: run every benchmark and print its figures."""

from __future__ import annotations

from bench import (
    api,
    backup,
    batch,
    issuing,
    memory,
    queue,
    render,
    seal,
    signing,
    storage,
    verification,
    workflow,
)


def main() -> None:
    workflow.main()
    signing.main()
    issuing.main([])
    batch.main()
    render.main([])
    seal.main()
    verification.main()
    api.main()
    memory.main([])  # each worker's RSS beside PSS, and after a FHIR Bundle
    storage.main([])  # its defaults: 1,000 documents of 1-3 MB per backend
    queue.main([])  # its defaults: a million reports, then the queue's figures
    backup.main([])  # 100,000 reports backed up and restored


if __name__ == "__main__":
    main()
