-- toolcord conversation store, SQLite schema version 1.
-- Times are integer milliseconds since the Unix epoch (UTC); JSON columns hold text.

CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT    NOT NULL UNIQUE,
    guild_id        INTEGER,
    channel_id      INTEGER,
    thread_id       INTEGER,
    user_id         INTEGER,
    private_user_id INTEGER,
    overrides       TEXT    NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX conversations_private_user ON conversations (private_user_id)
    WHERE private_user_id IS NOT NULL;
CREATE INDEX conversations_user ON conversations (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE exchanges (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id   INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id           INTEGER,
    owner             TEXT    NOT NULL,
    status            TEXT    NOT NULL
        CHECK (status IN ('pending', 'complete', 'interrupted', 'failed')),
    source_message_id INTEGER UNIQUE,
    sent_message_ids  TEXT    NOT NULL DEFAULT '[]',
    error             TEXT,
    created_at        INTEGER NOT NULL,
    finished_at       INTEGER
);
CREATE INDEX exchanges_conversation ON exchanges (conversation_id, id);
CREATE INDEX exchanges_complete ON exchanges (conversation_id, id) WHERE status = 'complete';
CREATE INDEX exchanges_pending ON exchanges (owner, id) WHERE status = 'pending';
CREATE INDEX exchanges_user ON exchanges (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE turns (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id   INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    exchange_id       INTEGER NOT NULL REFERENCES exchanges (id) ON DELETE CASCADE,
    seq               INTEGER NOT NULL,
    role              TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    content           TEXT,
    parts             TEXT    NOT NULL DEFAULT '[]',
    author_id         INTEGER,
    author_name       TEXT,
    name              TEXT,
    tool_calls        TEXT    NOT NULL DEFAULT '[]',
    tool_call_id      TEXT,
    status            TEXT    NOT NULL
        CHECK (status IN ('pending', 'complete', 'interrupted', 'failed')),
    token_estimate    INTEGER,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    source_message_id INTEGER,
    sent_message_ids  TEXT    NOT NULL DEFAULT '[]',
    created_at        INTEGER NOT NULL,
    UNIQUE (exchange_id, seq)
);
CREATE INDEX turns_conversation ON turns (conversation_id);
CREATE INDEX turns_author ON turns (author_id) WHERE author_id IS NOT NULL;

-- Every Discord message id the store knows: the user's (source) and the bot's (sent).
CREATE TABLE message_links (
    message_id      INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    exchange_id     INTEGER REFERENCES exchanges (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('source', 'sent'))
);
CREATE INDEX message_links_conversation ON message_links (conversation_id);
CREATE INDEX message_links_exchange ON message_links (exchange_id);

CREATE TABLE usage (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           INTEGER,
    guild_id          INTEGER,
    conversation_id   INTEGER REFERENCES conversations (id) ON DELETE SET NULL,
    exchange_id       INTEGER REFERENCES exchanges (id) ON DELETE SET NULL,
    model             TEXT    NOT NULL,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    images            INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL
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
    conversation_id INTEGER REFERENCES conversations (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    completed_at    INTEGER
);
CREATE INDEX tool_ledger_conversation ON tool_ledger (conversation_id);
CREATE INDEX tool_ledger_time ON tool_ledger (created_at);

-- Settings per scope ('guild', 'channel', 'user', ...) and Discord id, as a JSON object.
CREATE TABLE settings (
    scope      TEXT    NOT NULL,
    scope_id   INTEGER NOT NULL,
    data       TEXT    NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, scope_id)
);
