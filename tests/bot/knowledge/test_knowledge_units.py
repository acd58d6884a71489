"""Pure parts of issue 18: chunking with titles, queries, rank fusion, what a summary covers."""

from __future__ import annotations

import pytest

from bot.knowledge.chunking import chunk_markdown, split_text
from bot.knowledge.intake import parse_message_link
from bot.knowledge.lexical import fts5_query, tsquery
from bot.knowledge.models import PastTurn
from bot.knowledge.sources import SourceError, read_source
from bot.knowledge.summaries import due, transcript
from bot.knowledge.vectors import GuildVectors, fuse, pack


def test_markdown_chunks_carry_their_heading_path() -> None:
    text = "intro line\n# Guide\n## Install\nrun it\n### Linux\napt it\n## Use\ncall it\n"
    chunks = chunk_markdown("guide.md", text, 200)
    assert [(c.title, c.text) for c in chunks] == [
        ("guide.md", "intro line"),
        ("guide.md > Guide > Install", "run it"),
        ("guide.md > Guide > Install > Linux", "apt it"),
        ("guide.md > Guide > Use", "call it"),
    ]


def test_long_text_is_cut_at_paragraphs_then_lines_then_hard() -> None:
    assert split_text("a" * 5 + "\n\n" + "b" * 5, 12) == ["aaaaa\n\nbbbbb"]
    assert split_text("a" * 5 + "\n\n" + "b" * 8, 12) == ["aaaaa", "bbbbbbbb"]
    assert split_text("c" * 25, 10) == ["c" * 10, "c" * 10, "c" * 5]


def test_queries_pass_no_operators_through() -> None:
    assert fts5_query('ZX-4411-Q" OR NEAR(', 7) == (
        'guild : "g7" AND {title text} : ("zx" OR "4411" OR "q" OR "or" OR "near")'
    )
    assert fts5_query("!!!", 7) == ""
    assert tsquery("Refund & (code)") == "refund | code"


def test_rank_fusion_prefers_items_both_lists_rank() -> None:
    assert [item for item, _ in fuse([[1, 2, 3], [3, 1, 4]], 3)] == [1, 3, 2]


def test_exact_vectors_rank_by_cosine_and_skip_other_dimensions() -> None:
    rows = [(1, pack([1.0, 0.0])), (2, pack([0.6, 0.8])), (3, pack([0.0, 1.0, 0.0]))]
    vectors = GuildVectors.build((3, 3), rows)
    assert vectors.nearest([0.0, 2.0], 5) == [2, 1]
    assert vectors.nearest([1.0, 0.0, 0.0], 5) == []


def test_message_links_parse_and_others_do_not() -> None:
    link = parse_message_link("https://discord.com/channels/1/2/3")
    assert link is not None and (link.guild_id, link.channel_id, link.message_id) == (1, 2, 3)
    assert parse_message_link("https://discord.com/channels/@me/2/3") is None


def test_unreadable_sources_say_what_to_send() -> None:
    with pytest.raises(SourceError, match="reads text, Markdown and PDF"):
        read_source("a.png", "image/png", b"\x89PNG", 100)
    with pytest.raises(SourceError, match="could not be read as a PDF"):
        read_source("a.pdf", "application/pdf", b"%PDF-1.4 broken", 100)
    with pytest.raises(SourceError, match="not UTF-8 text"):
        read_source("a.txt", "text/plain", b"\xff\xfe\xfa", 100)


def _turns(count: int, tokens: int) -> list[PastTurn]:
    return [PastTurn(n, "user", "bob", f"t{n}", tokens) for n in range(1, count + 1)]


def test_nothing_is_summarized_while_the_window_holds_everything() -> None:
    assert due(_turns(7, 100), 1000) == []  # 700 <= 750


def test_the_oldest_part_beyond_half_the_budget_is_summarized() -> None:
    dropped = due(_turns(8, 100), 1000)  # 800 > 750; the newest 5 (500) stay
    assert [turn.id for turn in dropped] == [1, 2, 3]


def test_a_very_long_backlog_sends_only_its_newest_part_to_the_summarizer() -> None:
    dropped = due(_turns(100, 100), 1000)  # at most 2 x budget of input
    assert [turn.id for turn in dropped] == list(range(76, 96))


def test_the_transcript_names_speakers() -> None:
    turns = [PastTurn(1, "user", "bob", "hi", 1), PastTurn(2, "assistant", None, "hello", 1)]
    assert (
        transcript("", turns) == "Previous summary:\n(none)\n\nMessages:\nbob: hi\nassistant: hello"
    )


async def test_a_url_to_a_private_address_is_refused_by_the_safe_fetcher() -> None:
    from bot.knowledge.intake import from_url

    with pytest.raises(SourceError, match=r"^http://127\.0\.0\.1:9/notes could not be fetched: "):
        await from_url("http://127.0.0.1:9/notes", 10_000, 1000)
