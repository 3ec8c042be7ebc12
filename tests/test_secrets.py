"""Secret masking (RELIABILITY rule 9), including a secret split across stream chunks."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from respond.secrets import MASK, Masker

CANARY = "s3cr3t-Canary-42"


def test_masks_nested_data_and_longest_first() -> None:
    masker = Masker([CANARY, "s3cr3t"])
    data = {"a": f"x {CANARY} y", "b": [CANARY, ("s3cr3t",)], CANARY: 1}
    masked = masker.mask(data)
    assert CANARY not in repr(masked) and "s3cr3t" not in repr(masked)
    assert masked["a"] == f"x {MASK} y"


def test_short_values_are_not_treated_as_secrets() -> None:
    assert Masker(["ab"]).mask("abc") == "abc"


@given(st.text(max_size=40), st.text(max_size=40), st.lists(st.integers(1, 7), min_size=1))
def test_a_secret_read_in_pieces_is_masked_once_joined(
    before: str, after: str, cuts: list[int]
) -> None:
    # what an executor does: join the chunks it read, then the output is masked whole
    text = before + CANARY + after
    chunks, i = [], 0
    for size in cuts * 10:
        chunks.append(text[i : i + size])
        i += size
    chunks.append(text[i:])
    assert CANARY not in Masker([CANARY]).mask("".join(chunks))


# a secret with every character class the transformations below treat specially
ODD = "pa'ss w/rd+Ω-42&<x>"
TRANSFORMS = {
    "shlex.quote": __import__("shlex").quote,
    "urllib quote": lambda s: __import__("urllib.parse").parse.quote(s, safe=""),
    "urllib quote (safe /)": lambda s: __import__("urllib.parse").parse.quote(s),
    "urllib quote_plus": lambda s: __import__("urllib.parse").parse.quote_plus(s),
    "json.dumps": __import__("json").dumps,
    "json.dumps (utf-8)": lambda s: __import__("json").dumps(s, ensure_ascii=False),
    "jinja tojson": lambda s: (
        __import__("jinja2").Environment().from_string("{{ s | tojson }}").render(s=s)
    ),
    "repr": repr,
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "capitalize": str.capitalize,
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@pytest.mark.parametrize("secret", [CANARY, ODD])
def test_common_transformations_of_a_secret_are_masked(name: str, secret: str) -> None:
    form = TRANSFORMS[name](secret)
    text = f"before {form} after"
    masked = Masker([secret]).mask(text)
    assert masked.startswith("before ") and masked.endswith(" after") and MASK in masked
    assert _pieces(secret, 6).isdisjoint(_pieces(masked, 6)), masked


def _pieces(text: str, n: int) -> set[str]:
    """Every n-character run of text (a leak of a part of a secret shows up here)."""
    return {text[i : i + n] for i in range(len(text) - n + 1)}


@pytest.mark.parametrize("prefix", ["", "u", "us", "user:", "Authorization ok"])
@pytest.mark.parametrize("secret", [CANARY, ODD])
def test_a_secret_inside_base64_is_masked_at_every_alignment(prefix: str, secret: str) -> None:
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        blob = encode(f"{prefix}{secret}!".encode()).decode()
        masked = Masker([secret]).mask(f"Basic {blob}")
        assert MASK in masked
        # what is left cannot be decoded back to more than a few characters of the secret
        left = max(masked.split(MASK), key=len)
        assert len(left) < len(blob) - 8


def test_base64_of_a_short_secret_is_not_masked_by_chance() -> None:
    # a 4-character secret leaves base64 fragments too short to tell from other text
    masker = Masker(["abcd"])
    blob = base64.b64encode(b"xxabcdxx").decode()
    assert masker.mask(blob) == blob


@given(st.text(max_size=40), st.text(max_size=40), st.lists(st.integers(1, 7), min_size=1))
def test_the_longest_transformed_form_read_in_pieces_is_masked_once_joined(
    before: str, after: str, cuts: list[int]
) -> None:
    form = max((t(ODD) for t in TRANSFORMS.values()), key=len)
    text = before + form + after
    chunks, i = [], 0
    for size in cuts * 10:
        chunks.append(text[i : i + size])
        i += size
    chunks.append(text[i:])
    assert form not in Masker([ODD]).mask("".join(chunks))
