-- When the Discord message a turn came from (or was sent as) was deleted: its text is then
-- redacted in the store, and every reader (window, export, playground) shows the redaction.
ALTER TABLE turns ADD COLUMN deleted_at {{TIME}};
