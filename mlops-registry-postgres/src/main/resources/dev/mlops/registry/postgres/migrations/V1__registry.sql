-- The registry's tables. Applied once, in one transaction, by PostgresModelStore's migrations.

-- One row per model that ever had a version; last_version is the highest number ever issued, so
-- a deleted number is never reused. The registering transaction bumps it under the row lock, which
-- orders concurrent registrations and leaves no gap when one of them rolls back.
CREATE TABLE models (
  name         text   PRIMARY KEY,
  last_version bigint NOT NULL DEFAULT 0 CHECK (last_version >= 0)
);

-- Immutable version records (the JSON of ModelVersion as registered); only status changes.
CREATE TABLE versions (
  model   text   NOT NULL REFERENCES models (name),
  version bigint NOT NULL CHECK (version >= 1),
  status  text   NOT NULL CHECK (status IN ('READY', 'ARCHIVED')),
  record  text   NOT NULL,
  PRIMARY KEY (model, version)
);

-- Side files: input example, manifest signature, attachments/<name>. Gone with their version.
CREATE TABLE version_files (
  model   text   NOT NULL,
  version bigint NOT NULL,
  name    text   NOT NULL,
  content bytea  NOT NULL,
  PRIMARY KEY (model, version, name),
  FOREIGN KEY (model, version) REFERENCES versions (model, version) ON DELETE CASCADE
);

-- Aliases. A deleted alias keeps its row with a null version, so that an alias created again
-- continues its revision count. No foreign key on version: the store checks the target under a
-- row lock after its compare-and-set, and reports a missing target as a conflict.
CREATE TABLE aliases (
  model    text   NOT NULL REFERENCES models (name),
  alias    text   NOT NULL,
  version  bigint CHECK (version >= 1),
  revision bigint NOT NULL CHECK (revision >= 1),
  PRIMARY KEY (model, alias)
);

-- The audit log in commit order: writers take one transaction-scoped advisory lock just before
-- they insert their entry, so ids are assigned in the order the transactions commit. entry is the
-- whole entry as JSON; the other columns are for filtering. is_change: the entry committed with a
-- change (and is delivered to listeners), not appended by appendAudit.
CREATE TABLE audit (
  id        bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model     text    NOT NULL,
  action    text    NOT NULL,
  actor     text    NOT NULL,
  is_change boolean NOT NULL,
  entry     text    NOT NULL
);

CREATE INDEX audit_by_model ON audit (model, id);
