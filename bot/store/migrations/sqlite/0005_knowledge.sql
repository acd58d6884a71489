-- Schema version 5, SQLite only: full-text search of knowledge chunks in knowledge_fts (FTS5;
-- rowid = chunk id, kept in step by triggers).
-- guild holds 'g<guild id>': a search matches it first, so it ranks only that guild's chunks.
CREATE VIRTUAL TABLE knowledge_fts USING fts5 (guild, title, text, tokenize = 'unicode61');

CREATE TRIGGER knowledge_chunks_indexed AFTER INSERT ON knowledge_chunks BEGIN
    INSERT INTO knowledge_fts (rowid, guild, title, text)
    VALUES (new.id, 'g' || new.guild_id, new.title, new.text);
END;

CREATE TRIGGER knowledge_chunks_unindexed AFTER DELETE ON knowledge_chunks BEGIN
    DELETE FROM knowledge_fts WHERE rowid = old.id;
END;
