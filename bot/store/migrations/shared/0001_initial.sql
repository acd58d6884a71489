-- toolcord conversation store, schema version 1.
-- Times are integer milliseconds since the Unix epoch on SQLite, TIMESTAMPTZ on PostgreSQL (UTC);
-- JSON columns hold text on SQLite, JSONB on PostgreSQL. The double-braced words are the types
-- that differ by dialect: DIALECT_TYPES in bot/store/migrations/__init__.py.

CREATE TABLE conversations (
    id              {{ID}},
    key             TEXT    NOT NULL UNIQUE,
    guild_id        {{BIGINT}},
    channel_id      {{BIGINT}},
    thread_id       {{BIGINT}},
    user_id         {{BIGINT}},
    private_user_id {{BIGINT}},
    overrides       {{JSON}}    NOT NULL DEFAULT '{}',
    created_at      {{TIME}} NOT NULL,
    updated_at      {{TIME}} NOT NULL
);
CREATE INDEX conversations_private_user ON conversations (private_user_id)
    WHERE private_user_id IS NOT NULL;
CREATE INDEX conversations_user ON conversations (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE exchanges (
    id                {{ID}},
    conversation_id   {{BIGINT}} NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id           {{BIGINT}},
    owner             TEXT    NOT NULL,
    status            TEXT    NOT NULL
        CHECK (status IN ('pending', 'complete', 'interrupted', 'failed')),
    source_message_id {{BIGINT}} UNIQUE,
    sent_message_ids  {{JSON}}    NOT NULL DEFAULT '[]',
    error             TEXT,
    created_at        {{TIME}} NOT NULL,
    finished_at       {{TIME}}
);
CREATE INDEX exchanges_conversation ON exchanges (conversation_id, id);
CREATE INDEX exchanges_complete ON exchanges (conversation_id, id) WHERE status = 'complete';
CREATE INDEX exchanges_pending ON exchanges (owner, id) WHERE status = 'pending';
CREATE INDEX exchanges_user ON exchanges (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE turns (
    id                {{ID}},
    conversation_id   {{BIGINT}} NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    exchange_id       {{BIGINT}} NOT NULL REFERENCES exchanges (id) ON DELETE CASCADE,
    seq               INTEGER NOT NULL,
    role              TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    content           TEXT,
    parts             {{JSON}}    NOT NULL DEFAULT '[]',
    author_id         {{BIGINT}},
    author_name       TEXT,
    name              TEXT,
    tool_calls        {{JSON}}    NOT NULL DEFAULT '[]',
    tool_call_id      TEXT,
    status            TEXT    NOT NULL
        CHECK (status IN ('pending', 'complete', 'interrupted', 'failed')),
    token_estimate    {{BIGINT}},
    prompt_tokens     {{BIGINT}},
    completion_tokens {{BIGINT}},
    source_message_id {{BIGINT}},
    sent_message_ids  {{JSON}}    NOT NULL DEFAULT '[]',
    created_at        {{TIME}} NOT NULL,
    UNIQUE (exchange_id, seq)
);
CREATE INDEX turns_conversation ON turns (conversation_id);
CREATE INDEX turns_author ON turns (author_id) WHERE author_id IS NOT NULL;

-- Every Discord message id the store knows: the user's (source) and the bot's (sent).
CREATE TABLE message_links (
    message_id      {{BIGINT}} PRIMARY KEY,
    conversation_id {{BIGINT}} NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    exchange_id     {{BIGINT}} REFERENCES exchanges (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('source', 'sent'))
);
CREATE INDEX message_links_conversation ON message_links (conversation_id);
CREATE INDEX message_links_exchange ON message_links (exchange_id);

CREATE TABLE usage (
    id                {{ID}},
    user_id           {{BIGINT}},
    guild_id          {{BIGINT}},
    conversation_id   {{BIGINT}} REFERENCES conversations (id) ON DELETE SET NULL,
    exchange_id       {{BIGINT}} REFERENCES exchanges (id) ON DELETE SET NULL,
    model             TEXT    NOT NULL,
    prompt_tokens     {{BIGINT}} NOT NULL DEFAULT 0,
    completion_tokens {{BIGINT}} NOT NULL DEFAULT 0,
    images            {{BIGINT}} NOT NULL DEFAULT 0,
    created_at        {{TIME}} NOT NULL
);
CREATE INDEX usage_time ON usage (created_at);
CREATE INDEX usage_user_time ON usage (user_id, created_at);
CREATE INDEX usage_guild_time ON usage (guild_id, created_at);
CREATE INDEX usage_conversation ON usage (conversation_id);
CREATE INDEX usage_exchange ON usage (exchange_id);

-- Side effects of tools: claimed ('attempted') before running, 'completed' after.
CREATE TABLE tool_ledger (
    key             TEXT    PRIMARY KEY,
    tool            TEXT    NOT NULL,
    arguments       TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    result          TEXT,
    outcome         TEXT,
    conversation_id {{BIGINT}} REFERENCES conversations (id) ON DELETE CASCADE,
    created_at      {{TIME}} NOT NULL,
    completed_at    {{TIME}}
);
CREATE INDEX tool_ledger_conversation ON tool_ledger (conversation_id);
CREATE INDEX tool_ledger_time ON tool_ledger (created_at);

-- Settings per scope ('guild', 'channel', 'user', ...) and Discord id, as a JSON object.
CREATE TABLE settings (
    scope      TEXT    NOT NULL,
    scope_id   {{BIGINT}} NOT NULL,
    data       {{JSON}}    NOT NULL DEFAULT '{}',
    updated_at {{TIME}} NOT NULL,
    PRIMARY KEY (scope, scope_id)
);
