-- Artifacts kept in PostgreSQL by PostgresArtifactStore, by the SHA-256 digest of their manifest.
-- A put inserts the artifact's row, its files and its chunks in one transaction, so an artifact is
-- visible only whole; the primary key makes a concurrent put of the same digest wait for the first
-- and then find it stored (INSERT ... ON CONFLICT DO NOTHING). stored_at is the time of the last
-- put (a put of a stored digest sets it again), so that garbage collection spares an artifact a
-- registration in flight is about to reference.
CREATE TABLE artifacts (
  digest    text        PRIMARY KEY CHECK (digest ~ '^[0-9a-f]{64}$'),
  stored_at timestamptz NOT NULL DEFAULT now()
);

-- The artifact's files as registered: relative path, size and SHA-256 of the content.
CREATE TABLE artifact_files (
  digest text   NOT NULL REFERENCES artifacts (digest) ON DELETE CASCADE,
  path   text   NOT NULL,
  size   bigint NOT NULL CHECK (size >= 0),
  sha256 text   NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  PRIMARY KEY (digest, path)
);

-- The content of each file in chunks of at most the store's chunk size, numbered from 0; an empty
-- file has no chunk. Read in seq order, one chunk at a time.
CREATE TABLE artifact_chunks (
  digest text    NOT NULL,
  path   text    NOT NULL,
  seq    integer NOT NULL CHECK (seq >= 0),
  bytes  bytea   NOT NULL,
  PRIMARY KEY (digest, path, seq),
  FOREIGN KEY (digest, path) REFERENCES artifact_files (digest, path) ON DELETE CASCADE
);
