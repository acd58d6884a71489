-- toolcord conversation store, schema version 2: images stored once per conversation.
-- A turn refers to an image with an {"type": "image_ref", "image_id": ...} part; the id is the
-- SHA-256 (hex) of the encoded bytes. Deleting the conversation deletes its images.

CREATE TABLE images (
    conversation_id {{BIGINT}} NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    id              TEXT    NOT NULL,
    mime            TEXT    NOT NULL,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    size            INTEGER NOT NULL,
    data            {{BYTES}}    NOT NULL,
    created_at      {{TIME}} NOT NULL,
    PRIMARY KEY (conversation_id, id)
);
