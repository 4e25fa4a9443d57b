"""Comparing Indonesian personal names as people actually write them.

Titles (Hj., Dr., S.Kom., H.) come and go, spelling has old and new forms
(dj/j, tj/c, oe/u, ch/kh), spacing and case vary. Names are normalised first,
then compared with rapidfuzz.
"""

from __future__ import annotations

import re
import unicodedata

#: Honorifics and academic degrees that are not part of the registered name.
_TITLES = {
    "h", "hj", "haji", "hajah", "dr", "drs", "dra", "ir", "prof", "kh", "ust", "ustadz",
    "sh", "se", "st", "skom", "spd", "sked", "skm", "sp", "mm", "msi", "mt", "mkom", "mpd",
    "amd", "amkeb", "bsc", "ssos", "sip", "ssi", "sag", "shi", "mh", "mag", "phd", "raden", "rr",
}  # fmt: skip

#: Old (Van Ophuijsen / Soewandi) spellings and their modern forms.
_SPELLING = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("sj", "sy"), ("nj", "ny"), ("ch", "kh"))


def normalise_name(name: str) -> str:
    """Lower case, ASCII, no titles or punctuation, modern spelling, single spaces."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    text = text.lower()
    # Degrees are written "S.Kom." or "S. Kom": join dotted pieces before splitting.
    text = re.sub(r"\b([a-z])\.\s*(?=[a-z]{1,4}\.?(\s|,|$))", r"\1", text)
    words = re.split(r"[^a-z]+", text)
    kept = [w for w in words if w and w not in _TITLES]
    joined = " ".join(kept)
    for old, new in _SPELLING:
        joined = joined.replace(old, new)
    return joined


def name_similarity(claimed: str, registered: str) -> float:
    """0-100: how alike two names are once normalised (word order tolerated)."""
    from rapidfuzz import fuzz  # in the verification job, not in every web worker

    a, b = normalise_name(claimed), normalise_name(registered)
    if not a or not b:
        return 0.0
    return float(max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)))


def allowed_edits(name: str) -> int:
    """Edits tolerated between two child names, scaled by length (as OpenCRVS does):
    none up to 3 letters, one up to 6, two beyond."""
    length = len(normalise_name(name).replace(" ", ""))
    if length <= 3:
        return 0
    if length <= 6:
        return 1
    return 2


def similar_child_names(first: str, second: str) -> bool:
    """Two child names close enough to suspect the same child."""
    from rapidfuzz.distance import Levenshtein  # in the verification job only

    a, b = normalise_name(first), normalise_name(second)
    limit = min(allowed_edits(first), allowed_edits(second))
    return Levenshtein.distance(a, b, score_cutoff=limit) <= limit
