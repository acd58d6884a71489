"""How an answer's files fit into Discord messages: at most 10 per message, each file within the
upload limit of the place, each request within 25 MiB; what does not fit is named in a notice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tools import Artifact

FILES_PER_MESSAGE = 10
DEFAULT_FILE_LIMIT = 10 * 1024 * 1024
"""Discord's upload limit per file without server boosts, and in DMs."""
REQUEST_LIMIT = 25 * 1024 * 1024 - 64 * 1024
"""Discord's 25 MiB per upload request, less room for the message's own JSON and content."""
NOTICE_TEXTS = {
    "files.not_delivered": "-# ⚠️ Not delivered: {named}.",
    "files.too_large": "{size}, over the {limit} upload limit here",
    "files.too_many": "over the {max_files} files one answer carries",
}
"""The notice's words by message key, in English (the reply passes its catalogue's)."""
Texts = Callable[..., str]


def english(key: str, **values: Any) -> str:
    """A notice text in English."""
    return NOTICE_TEXTS[key].format(**values)


@dataclass(frozen=True)
class FileLayout:
    """The files that go out, one group per message, and the ones that cannot, with why."""

    groups: list[list[Artifact]]
    dropped: list[tuple[Artifact, str, dict[str, Any]]]  # the file, why (a key) and its values

    @property
    def kept(self) -> list[Artifact]:
        return [artifact for group in self.groups for artifact in group]

    def notice(self, text: Texts = english) -> str:
        """The line the user sees about files that could not be delivered ("" when none)."""
        if not self.dropped:
            return ""
        named = "; ".join(
            f"{artifact.filename} ({text(why, **values)})" for artifact, why, values in self.dropped
        )
        return text("files.not_delivered", named=named)


def lay_out(
    files: Sequence[Artifact],
    *,
    max_files: int,
    file_limit: int = DEFAULT_FILE_LIMIT,
    per_message: int = FILES_PER_MESSAGE,
    request_limit: int = REQUEST_LIMIT,
) -> FileLayout:
    """Pack ``files`` in order into messages; drop what Discord or the answer's cap refuses."""
    groups: list[list[Artifact]] = []
    dropped: list[tuple[Artifact, str, dict[str, Any]]] = []
    kept = group_bytes = 0
    for artifact in files:
        size = len(artifact.data)
        if size > min(file_limit, request_limit):
            sizes = {"size": _mb(size), "limit": _mb(file_limit)}
            dropped.append((artifact, "files.too_large", sizes))
            continue
        if kept >= max_files:
            dropped.append((artifact, "files.too_many", {"max_files": max_files}))
            continue
        if not groups or len(groups[-1]) >= per_message or group_bytes + size > request_limit:
            groups.append([])
            group_bytes = 0
        groups[-1].append(artifact)
        group_bytes += size
        kept += 1
    return FileLayout(groups, dropped)


def pack(files: Sequence[Artifact], file_limit: int) -> list[list[Artifact]]:
    """``files`` (already within the limits) in groups that each fit one message."""
    return lay_out(files, max_files=len(files), file_limit=file_limit).groups


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
