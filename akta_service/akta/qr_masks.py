"""Segno's choice of the QR code's mask, made faster and kept the same.

ISO/IEC 18004 has an encoder try all eight data masks and keep the one with the lowest
penalty; segno does exactly that, module by module in Python, and on a version-13 code
(the akta's sealed QR) it was two thirds of rendering the akta. The two functions below
replace segno's `apply_mask` and `mask_scores` with ones that work a row at a time (bytes
and integers, in C) and give the same results: the same masked matrix and the same four
penalty scores, hence the same mask and the same code. tests/akta/test_qr_masks.py
compares them with segno's own on codes of every size and fails if segno's functions
change their names or parameters.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Final

from segno import encoder

#: segno's own functions, as this module found them.
ORIGINAL_APPLY_MASK: Final = encoder.apply_mask
ORIGINAL_MASK_SCORES: Final = encoder.mask_scores
#: The parameters segno's functions take; replaced only while these hold.
APPLY_MASK_PARAMETERS: Final = ("matrix", "mask_pattern", "width", "height", "is_encoding_region")
MASK_SCORES_PARAMETERS: Final = ("matrix", "width", "height")

_N3_PATTERN: Final = bytes((1, 0, 1, 1, 1, 0, 1))
#: Runs of five or more modules of one colour (N1), each taken whole.
_RUN: Final = re.compile(rb"\x00{5,}|\x01{5,}")
_BITS: Final = bytes.maketrans(b"\x00\x01", b"01")

#: The modules each mask flips, row by row as integers, for each (mask, width, height); the
#: mask by its code, since segno makes its mask functions anew for every symbol.
_flips: dict[tuple[object, int, int], tuple[int, ...]] = {}


def apply_mask(
    matrix: Sequence[bytearray],
    mask_pattern: Callable[[int, int], int],
    width: int,
    height: int,
    is_encoding_region: Callable[[int, int], bool],
) -> None:
    """segno's `apply_mask`: flip the encoding region's modules where the mask is dark."""
    key = (mask_pattern.__code__, width, height)
    flips = _flips.get(key)
    if flips is None:
        # The encoding region is fixed by the symbol's size: worked out once per size.
        flips = _flips[key] = tuple(
            int.from_bytes(
                bytes(
                    1 if is_encoding_region(i, j) and mask_pattern(i, j) else 0
                    for j in range(width)
                )
            )
            for i in range(height)
        )
    for row, flip in zip(matrix, flips, strict=True):
        row[:] = (int.from_bytes(row) ^ flip).to_bytes(width)


def mask_scores(matrix: Sequence[bytearray], width: int, height: int) -> tuple[int, int, int, int]:
    """segno's `mask_scores`: the penalties N1, N2, N3 and N4 of a masked matrix."""
    rows = [bytes(row) for row in matrix]
    every_row = b"".join(rows)
    if width != height or every_row.translate(None, b"\x00\x01"):
        return tuple(ORIGINAL_MASK_SCORES(matrix, width, height))
    columns = [bytes(column) for column in zip(*rows, strict=True)]
    lines = rows + columns
    # N1: each run of five or more scores its length less two. Removing the runs from all
    # lines at once (kept apart by a value that is no colour) tells their total length
    # and their number.
    every_line = b"\x02".join(lines)
    rest, runs = _RUN.subn(b"", every_line)
    n1 = len(every_line) - len(rest) - 2 * runs
    n3 = sum(_n3_occurrences(line, width) for line in lines)
    percent = float(every_row.count(1)) / (width**2)
    n4 = 10 * int(abs(percent * 100 - 50) / 5)
    return n1, _n2(rows, width), n3, n4


def _n2(rows: list[bytes], width: int) -> int:
    """3 for every 2 x 2 block of one colour (overlapping blocks each count)."""
    pairs = (1 << (width - 1)) - 1
    bits = [int(row.translate(_BITS), 2) for row in rows]
    score = 0
    for above, below in pairwise(bits):
        same = ~(above ^ below)
        score += (same & (same >> 1) & ~(below ^ (below >> 1)) & pairs).bit_count()
    return 3 * score


def _n3_occurrences(line: bytes, size: int) -> int:
    """40 for each finder-like 1:1:3:1:1 pattern with four light modules on one side, found
    as segno finds them (after a miss, the search goes on from the pattern's middle)."""
    count = 0
    index = line.find(_N3_PATTERN)
    while index != -1:
        offset = index + 7
        if (
            index in (0, size - 7)
            or not any(line[max(index - 4, 0) : min(index, size)])
            or not any(line[max(offset, 0) : min(offset + 4, size)])
        ):
            count += 40
        else:
            offset = index + 4
        index = line.find(_N3_PATTERN, offset)
    return count


def _parameters(function: Callable[..., object]) -> tuple[str, ...]:
    return tuple(inspect.signature(function).parameters)


def install() -> bool:
    """Put the faster functions in segno's place, if segno's still look as they did; True
    if installed. Called once when the akta's rendering is imported."""
    if (
        _parameters(ORIGINAL_APPLY_MASK) != APPLY_MASK_PARAMETERS
        or _parameters(ORIGINAL_MASK_SCORES) != MASK_SCORES_PARAMETERS
    ):
        return False
    encoder.apply_mask = apply_mask
    encoder.mask_scores = mask_scores
    return True
