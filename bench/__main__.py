"""`python -m bench`: run every benchmark and print its figures."""

from __future__ import annotations

from bench import issuing, signing, verification, workflow


def main() -> None:
    workflow.main()
    signing.main()
    issuing.main()
    verification.main()


if __name__ == "__main__":
    main()
