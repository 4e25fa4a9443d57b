"""Every text of the public pages has its English translation, and the catalogue compiles."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from akta_service.parents.i18n import SOURCE, compile_catalogues

REPO = Path(__file__).resolve().parents[2]


def _texts_in_code() -> set[str]:
    with (SOURCE / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        REPO, method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_public_text_has_an_english_translation() -> None:
    with (SOURCE / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {
        message.id[0] if isinstance(message.id, tuple) else message.id
        for message in catalogue
        if message.id
        and all(message.string if isinstance(message.string, tuple) else [message.string])
    }
    texts = _texts_in_code()
    assert "Nama bayi" in texts
    missing = sorted(texts - translated)
    assert not missing, f"texts without an English translation: {missing}"


def test_the_catalogues_compile(tmp_path: Path) -> None:
    (compiled,) = compile_catalogues(SOURCE, tmp_path)
    assert compiled == tmp_path / "en" / "LC_MESSAGES" / "messages.mo"
    assert compiled.stat().st_size > 1000
