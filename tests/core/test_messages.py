"""Every message code has its Indonesian text and its English one, and the code asks only
for codes that exist."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask

import akta_service
from akta_service.core.errors import PAGE_STATUSES, DomainError, FieldError, InvalidInput
from akta_service.core.messages import MESSAGES, message, message_in
from akta_service.parents.i18n import SOURCE

PACKAGE = Path(akta_service.__file__).resolve().parent


def _english() -> dict[str, str]:
    with (SOURCE / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    return {m.id: m.string for m in catalogue if isinstance(m.id, str) and m.id}


def _every_domain_error() -> set[type[DomainError]]:
    for module in pkgutil.walk_packages([str(PACKAGE)], "akta_service."):
        if ".sandbox_server" not in module.name:
            importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    todo = [DomainError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_code_has_an_english_text() -> None:
    english = _english()
    untranslated = sorted(code for code, text in MESSAGES.items() if not english.get(text))
    assert not untranslated, f"codes without English in messages.po: {untranslated}"
    # A sentence translated by itself was copied, not translated (a "NIK" may stay a "NIK").
    copied = sorted(
        code for code, text in MESSAGES.items() if " " in text and english[text] == text
    )
    assert not copied, f"codes whose English is the Indonesian text: {copied}"


def test_every_domain_error_has_a_title_in_the_catalogue() -> None:
    errors = _every_domain_error()
    assert len(errors) > 10
    untitled = sorted(cls.__name__ for cls in errors if cls.code not in MESSAGES)
    assert not untitled, f"DomainErrors whose code has no title in core.messages: {untitled}"


def _literal_codes(node: ast.expr | None) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literal_codes(node.body) + _literal_codes(node.orelse)
    return []


def _codes_asked_for() -> list[tuple[str, int, str]]:
    """(file, line, code) for each literal code the package passes to an error."""
    #: Which positional arguments of a call are message codes.
    positions = {cls.__name__: (0,) for cls in _every_domain_error()} | {
        "UploadRefused": (0,),
        "InvalidNik": (0,),
        "ValidationError": (0,),
        "message": (0,),
        "FieldError": (1,),
        "_invalid": (0, 2),
    }
    asked = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            codes = [
                code
                for position in positions.get(name, ())
                if len(node.args) > position
                for code in _literal_codes(node.args[position])
            ]
            if path.name == "schemas.py":  # marshmallow's messages are codes there
                codes += [
                    c for k in node.keywords if k.arg == "error" for c in _literal_codes(k.value)
                ]
                if name == "_errors":
                    codes += [c for k in node.keywords for c in _literal_codes(k.value)]
            asked += [(str(path.relative_to(PACKAGE)), node.lineno, code) for code in codes]
    return asked


def test_the_code_asks_only_for_codes_the_catalogue_has() -> None:
    asked = _codes_asked_for()
    assert len(asked) > 100
    unknown = [entry for entry in asked if entry[2] not in MESSAGES]
    assert not unknown, f"codes without a text in core.messages: {unknown}"


@pytest.mark.parametrize("status", PAGE_STATUSES)
def test_every_error_page_has_its_title_and_advice(status: int) -> None:
    # Their codes are built from the status, out of sight of the scan above.
    assert {f"page_{status}_title", f"page_{status}_advice"} <= set(MESSAGES)


def test_parameters_fill_the_text_in_either_language(app: Flask) -> None:
    with app.app_context():
        _check_parameters()


def _check_parameters() -> None:
    assert message("idempotency_key_length", max_length=200) == (
        "Idempotency-Key harus 1-200 huruf, angka atau tanda baca ASCII tanpa spasi, "
        "misalnya sebuah UUID."
    )
    assert message_in("en", "role_may_not", role="facility", trigger="approve", roles=["a", "b"])
    english = message_in("en", "documents_closed", state="issued")
    assert english == "Documents cannot be added to a report in status 'issued'."


def test_a_field_error_on_a_page_escapes_its_parameters_not_its_text() -> None:
    error = FieldError("document.kk", "document_required", {"document": "<b>KK</b>"})
    assert str(error.message) == "Unggah &lt;b&gt;KK&lt;/b&gt;"
    assert FieldError("child.birth_date", "future_birth").message.__html__() == (
        "Tanggal lahir bayi tidak boleh di masa depan"
    )


@pytest.mark.parametrize("language", ["id", "en"])
def test_a_problem_is_worded_in_the_language_asked(app: Flask, language: str) -> None:
    with app.app_context():
        _check_problem(language)


def _check_problem(language: str) -> None:
    error = InvalidInput("report_invalid", errors=[FieldError("kk_number", "kk_number")])
    problem = error.to_problem(language)
    english = language == "en"
    assert problem["title"] == ("Some fields are not valid" if english else "Data belum benar")
    assert problem["errors"] == [
        {
            "field": "kk_number",
            "code": "kk_number",
            "message": "The KK number is 16 digits" if english else "Nomor KK harus 16 angka",
        }
    ]
    assert str(error) == "Data laporan kelahiran belum benar. Perbaiki kolom yang ditandai."
