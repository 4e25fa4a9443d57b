"""`python -m akta_service.signing …`: the `akta signing` commands, for the embedded service."""

from akta_service.signing.cli import signing_group

if __name__ == "__main__":
    signing_group(prog_name="akta signing")
