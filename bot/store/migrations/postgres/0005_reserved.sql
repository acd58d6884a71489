-- Placeholder for schema version 5, taken by another branch (issue 21 was told to use 0006).
-- The integrator replaces this file with that branch's migration of the same number.
SELECT 1;
