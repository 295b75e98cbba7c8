-- A migration after the last released one, for the migration test only: it proves that a schema at
-- the latest version, with data in it, is brought to the next by applying only that script.
ALTER TABLE models ADD COLUMN note text NOT NULL DEFAULT '';
