"""bpe-openai has the compiled module bot/shims/bpe_internals.py loads, counting as its API."""

from __future__ import annotations

import sys

import pytest

from bot.shims import bpe_internals
from bot.shims.bpe_internals import BINDINGS, bindings_module, bpe_counter, public_counter

# bpe-openai's public API reads its tables with importlib.resources.open_binary.
pytestmark = pytest.mark.filterwarnings("ignore:open_binary is deprecated:DeprecationWarning")

TEXTS = ("", "hello world", "naïve café — 東京 🙂", "def f(x):\n    return x * 2\n", "a" * 300)


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_the_compiled_module_counts_as_the_public_api(encoding: str) -> None:
    module = bindings_module()
    assert module is not None and module.__name__ == BINDINGS
    counter = bpe_counter(encoding)
    assert type(counter) is type(module.tokenizer_for_encoding(encoding))
    import bpe_openai  # the public API, imported here: its import warns (see pytestmark)

    public = bpe_openai.get_encoding(encoding)
    assert [counter.count(text) for text in TEXTS] == [
        len(public.encode_ordinary(text)) for text in TEXTS
    ]


def test_without_the_compiled_module_the_public_api_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bpe_internals, "bindings_module", lambda: None)
    counter = bpe_counter("o200k_base")
    assert counter is not None and type(counter).__name__ == "_PublicCounter"
    assert counter.count("hello world") == 2


def test_without_bpe_openai_there_is_no_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "bpe_openai", None)
    assert public_counter("o200k_base") is None
