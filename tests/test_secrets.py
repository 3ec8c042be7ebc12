"""Secret masking (RELIABILITY rule 9), including a secret split across stream chunks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from respond.secrets import MASK, Masker, StreamMasker

CANARY = "s3cr3t-Canary-42"


def test_masks_nested_data_and_longest_first() -> None:
    masker = Masker([CANARY, "s3cr3t"])
    data = {"a": f"x {CANARY} y", "b": [CANARY, ("s3cr3t",)], CANARY: 1}
    masked = masker.mask(data)
    assert CANARY not in repr(masked) and "s3cr3t" not in repr(masked)
    assert masked["a"] == f"x {MASK} y"


def test_short_values_are_not_treated_as_secrets() -> None:
    assert Masker(["ab"]).mask("abc") == "abc"


@given(
    st.text(max_size=40), st.text(max_size=40), st.lists(st.integers(1, 7), min_size=1, max_size=20)
)
def test_a_secret_split_across_chunks_never_leaks(before: str, after: str, cuts: list[int]) -> None:
    text = before + CANARY + after + CANARY
    stream = StreamMasker(Masker([CANARY]))
    out, i = [], 0
    for size in cuts * 20:
        if i >= len(text):
            break
        out.append(stream.feed(text[i : i + size]))
        i += size
    out.append(stream.feed(text[i:]))
    out.append(stream.flush())
    joined = "".join(out)
    assert CANARY not in joined
    assert joined == Masker([CANARY]).mask(text)
