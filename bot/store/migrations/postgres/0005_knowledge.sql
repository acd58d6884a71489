-- Schema version 5, PostgreSQL only: a full-text vector per knowledge chunk ('simple'
-- configuration: exact terms such as product codes match), with a GIN index.
ALTER TABLE knowledge_chunks
    ADD COLUMN terms TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || text)) STORED;

CREATE INDEX knowledge_chunks_terms ON knowledge_chunks USING GIN (terms);
