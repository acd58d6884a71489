-- toolcord conversation store, schema version 5: what the bot knows (issue 18).
-- knowledge_sources / knowledge_chunks: a guild's knowledge base, added by its admins; each
-- chunk keeps its embedding as little-endian float32 bytes. Chunk ids are never reused, so
-- (count, newest id) of a guild's chunks changes with every edit. Full-text search differs by
-- dialect: ../sqlite/0005_knowledge.sql (FTS5), ../postgres/0005_knowledge.sql (tsvector).
-- memories: what a user asked the bot to remember, scoped to the user in one guild (guild_id 0
-- for direct messages). conversation_summaries: the rolling summary of turns the window dropped.

CREATE TABLE knowledge_sources (
    id          {{SERIAL}},
    guild_id    {{BIGINT}} NOT NULL,
    title       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    origin      TEXT    NOT NULL,
    added_by    {{BIGINT}} NOT NULL,
    chunk_count INTEGER NOT NULL,
    created_at  {{TIME}} NOT NULL
);

CREATE INDEX knowledge_sources_guild ON knowledge_sources (guild_id, id);

CREATE TABLE knowledge_chunks (
    id        {{SERIAL_NEVER_REUSED}},
    source_id {{BIGINT}} NOT NULL REFERENCES knowledge_sources (id) ON DELETE CASCADE,
    guild_id  {{BIGINT}} NOT NULL,
    seq       INTEGER NOT NULL,
    title     TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    embedding {{BYTES}}    NOT NULL
);

CREATE INDEX knowledge_chunks_guild ON knowledge_chunks (guild_id, id);
CREATE INDEX knowledge_chunks_source ON knowledge_chunks (source_id);

CREATE TABLE memories (
    id         {{SERIAL}},
    user_id    {{BIGINT}} NOT NULL,
    guild_id   {{BIGINT}} NOT NULL,
    text       TEXT    NOT NULL,
    created_at {{TIME}} NOT NULL
);

CREATE INDEX memories_owner ON memories (user_id, guild_id, id);

CREATE TABLE conversation_summaries (
    conversation_id {{BIGINT}} PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    text            TEXT    NOT NULL,
    through_turn_id {{BIGINT}} NOT NULL,
    token_estimate  INTEGER NOT NULL,
    told            {{BOOL}} NOT NULL DEFAULT {{FALSE}},
    updated_at      {{TIME}} NOT NULL
);
