"""`python -m bench`: run every benchmark and print its figures."""

from __future__ import annotations

from bench import workflow


def main() -> None:
    workflow.main()


if __name__ == "__main__":
    main()
