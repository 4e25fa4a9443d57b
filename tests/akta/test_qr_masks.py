"""The faster mask choice gives the very QR codes segno's own gives, at every size the akta,
the KIA and the KK print use and beyond; and it steps aside if segno's functions change."""

from __future__ import annotations

import random

import pytest
import segno
from segno import encoder

from akta_service.akta import document, qr_masks

_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _texts() -> list[str]:
    draw = random.Random(18)
    sealed = [
        "AK1:" + "".join(draw.choice(_ALPHANUMERIC) for _ in range(length))
        for length in (20, 90, 180, 300, 420, 470, 600, 900, 1500)
    ]
    urls = [f"https://akta.example.go.id/verifikasi/{'Ab3_x-' * n}" for n in (0, 3, 10, 40)]
    return sealed + urls


def _codes_with(apply_mask: object, mask_scores: object, monkeypatch: pytest.MonkeyPatch) -> list:
    with monkeypatch.context() as patch:
        patch.setattr(encoder, "apply_mask", apply_mask)
        patch.setattr(encoder, "mask_scores", mask_scores)
        return [segno.make_qr(text, error="m") for text in _texts()]


def test_the_rendering_uses_the_faster_mask_choice() -> None:
    assert document.qr_masks is qr_masks
    assert encoder.apply_mask is qr_masks.apply_mask
    assert encoder.mask_scores is qr_masks.mask_scores


def test_codes_are_module_for_module_those_segno_makes_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours = _codes_with(qr_masks.apply_mask, qr_masks.mask_scores, monkeypatch)
    segnos = _codes_with(qr_masks.ORIGINAL_APPLY_MASK, qr_masks.ORIGINAL_MASK_SCORES, monkeypatch)
    assert len({code.version for code in segnos}) >= 8
    assert [(code.version, code.mask) for code in ours] == [
        (code.version, code.mask) for code in segnos
    ]
    assert [code.matrix for code in ours] == [code.matrix for code in segnos]


@pytest.mark.parametrize("size", [21, 41, 69, 109, 177])
def test_penalties_are_segnos_on_any_pattern(size: int) -> None:
    draw = random.Random(size)
    for dark_share in (0.1, 0.5, 0.9):
        matrix = [
            bytearray(1 if draw.random() < dark_share else 0 for _ in range(size))
            for _ in range(size)
        ]
        expected = tuple(qr_masks.ORIGINAL_MASK_SCORES(matrix, size, size))
        assert qr_masks.mask_scores(matrix, size, size) == expected


def test_segnos_functions_still_take_what_they_took() -> None:
    # Fails loudly when segno renames or reshapes the two functions replaced here: then
    # install() leaves segno's own in place and this module is to be looked at again.
    assert qr_masks._parameters(qr_masks.ORIGINAL_APPLY_MASK) == qr_masks.APPLY_MASK_PARAMETERS
    assert qr_masks._parameters(qr_masks.ORIGINAL_MASK_SCORES) == qr_masks.MASK_SCORES_PARAMETERS
    assert encoder.find_and_apply_best_mask.__code__.co_names.count("apply_mask") >= 1


def test_a_changed_segno_keeps_its_own_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    def reshaped(matrix: object, width: int) -> None:
        raise AssertionError("not to be called")

    monkeypatch.setattr(qr_masks, "ORIGINAL_MASK_SCORES", reshaped)
    monkeypatch.setattr(encoder, "mask_scores", reshaped)
    monkeypatch.setattr(encoder, "apply_mask", qr_masks.ORIGINAL_APPLY_MASK)
    assert qr_masks.install() is False
    assert encoder.mask_scores is reshaped
    assert encoder.apply_mask is qr_masks.ORIGINAL_APPLY_MASK
