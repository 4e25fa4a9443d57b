"""`python -m bench`: run every benchmark and print its figures."""

from __future__ import annotations

from bench import api, issuing, signing, verification, workflow


def main() -> None:
    workflow.main()
    signing.main()
    issuing.main()
    verification.main()
    api.main()


if __name__ == "__main__":
    main()
