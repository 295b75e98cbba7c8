-- Rollouts: the registry's record of the rollout behind each alias (its own encoding, kept as
-- given), moved by compare-and-set on revision, which is 1 after the alias's first rollout and
-- bumped on every write. A row is never deleted, so a revision never repeats for one alias. No
-- foreign key to aliases: a rollout may start behind an alias the registry is about to create.
CREATE TABLE rollouts (
  model    text   NOT NULL REFERENCES models (name),
  alias    text   NOT NULL,
  record   text   NOT NULL,
  revision bigint NOT NULL CHECK (revision >= 1),
  PRIMARY KEY (model, alias)
);
