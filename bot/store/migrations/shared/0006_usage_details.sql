-- Details of a usage row (issues 15 and 17): the reasoning tokens among its completion tokens,
-- and the tokens the tool definitions added to its prompt tokens (summed over the turn's
-- requests). Both are already inside prompt/completion tokens: budgets never add them again.
ALTER TABLE usage ADD COLUMN reasoning_tokens {{BIGINT}} NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN tool_schema_tokens {{BIGINT}} NOT NULL DEFAULT 0;
