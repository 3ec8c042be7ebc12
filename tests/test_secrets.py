"""Secret masking (RELIABILITY rule 9), including a secret split across stream chunks."""

from __future__ import annotations

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
