-- A second migration for the migration test only: it proves that a schema at version 1, with
-- data in it, is brought to version 2 by applying only script 2.
ALTER TABLE models ADD COLUMN note text NOT NULL DEFAULT '';
