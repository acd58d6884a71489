"""bpe-openai's compiled module, loaded without the package, with the public API as fallback.

The private thing: ``bpe_openai._bindings`` (the Rust extension), loaded from its file so the
package's ``__init__`` does not run. Gain (measured, import plus first count of ``o200k_base``):
about 0.1 s and 87 MB peak RSS instead of 0.55 s and 157 MB, because the public
``bpe_openai.get_encoding`` decodes every table into Python dicts. Per-turn CPU is not affected
(the counters are cached per process).

Fallback: ``bpe_openai.get_encoding(name).encode_ordinary`` (public), counting its tokens. Without
bpe-openai installed :func:`bpe_counter` returns None (the caller estimates instead).

``tests/bot/shims/test_bpe_internals.py`` fails when the installed bpe-openai loses the module or
its ``tokenizer_for_encoding``, or when its counts stop matching the public API's.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from typing import Any, Protocol

BINDINGS = "bpe_openai._bindings"


class TokenCounter(Protocol):
    """Counts the BPE tokens of a text."""

    def count(self, text: str) -> int: ...


class _PublicCounter:
    """bpe-openai's public ``Encoding``, counting what ``encode_ordinary`` returns."""

    def __init__(self, encoding: Any) -> None:
        self._encoding = encoding

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))


def bpe_counter(encoding: str) -> TokenCounter | None:
    """A counter for ``encoding``: the compiled module's, else the public API's, else None."""
    bindings = bindings_module()
    if bindings is not None and hasattr(bindings, "tokenizer_for_encoding"):
        counter: TokenCounter = bindings.tokenizer_for_encoding(encoding)
        return counter
    return public_counter(encoding)


def public_counter(encoding: str) -> TokenCounter | None:
    """The public path: ``bpe_openai.get_encoding``; None if bpe-openai is not installed."""
    try:
        import bpe_openai

        return _PublicCounter(bpe_openai.get_encoding(encoding))
    except ImportError:  # not installed, or installed without its compiled module
        return None


def bindings_module() -> Any:
    """bpe-openai's compiled module, loaded without the package's ``__init__``; None if absent."""
    if BINDINGS in sys.modules:
        return sys.modules[BINDINGS]
    package = importlib.util.find_spec("bpe_openai")
    if package is None or not package.submodule_search_locations:
        return None
    for folder in package.submodule_search_locations:
        for candidate in sorted(Path(folder).glob("_bindings*")):
            if candidate.suffix in (".so", ".pyd"):
                return _load_extension(BINDINGS, candidate)
    return None


def _load_extension(name: str, location: Path) -> Any:
    loader = importlib.machinery.ExtensionFileLoader(name, str(location))
    spec = importlib.util.spec_from_file_location(name, location, loader=loader)
    if spec is None:
        return None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[name] = module
    return module
