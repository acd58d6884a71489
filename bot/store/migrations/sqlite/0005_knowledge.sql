-- toolcord conversation store, SQLite schema version 5: what the bot knows (issue 18).
-- knowledge_sources / knowledge_chunks: a guild's knowledge base, added by its admins; each
-- chunk keeps its embedding as little-endian float32 bytes and is indexed for full-text search
-- in knowledge_fts (rowid = chunk id, kept in step by triggers). Chunk ids are never reused
-- (AUTOINCREMENT), so (count, newest id) of a guild's chunks changes with every edit.
-- memories: what a user asked the bot to remember, scoped to the user in one guild (guild_id 0
-- for direct messages). conversation_summaries: the rolling summary of turns the window dropped.

CREATE TABLE knowledge_sources (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    origin      TEXT    NOT NULL,
    added_by    INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE INDEX knowledge_sources_guild ON knowledge_sources (guild_id, id);

CREATE TABLE knowledge_chunks (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id INTEGER NOT NULL REFERENCES knowledge_sources (id) ON DELETE CASCADE,
    guild_id  INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    title     TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    embedding BLOB    NOT NULL
);

CREATE INDEX knowledge_chunks_guild ON knowledge_chunks (guild_id, id);
CREATE INDEX knowledge_chunks_source ON knowledge_chunks (source_id);

-- guild holds 'g<guild id>': a search matches it first, so it ranks only that guild's chunks.
CREATE VIRTUAL TABLE knowledge_fts USING fts5 (guild, title, text, tokenize = 'unicode61');

CREATE TRIGGER knowledge_chunks_indexed AFTER INSERT ON knowledge_chunks BEGIN
    INSERT INTO knowledge_fts (rowid, guild, title, text)
    VALUES (new.id, 'g' || new.guild_id, new.title, new.text);
END;

CREATE TRIGGER knowledge_chunks_unindexed AFTER DELETE ON knowledge_chunks BEGIN
    DELETE FROM knowledge_fts WHERE rowid = old.id;
END;

CREATE TABLE memories (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    guild_id   INTEGER NOT NULL,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX memories_owner ON memories (user_id, guild_id, id);

CREATE TABLE conversation_summaries (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    text            TEXT    NOT NULL,
    through_turn_id INTEGER NOT NULL,
    token_estimate  INTEGER NOT NULL,
    told            INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
);
