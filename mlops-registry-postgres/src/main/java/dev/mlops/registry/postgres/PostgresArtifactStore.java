package dev.mlops.registry.postgres;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ClosedException;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.ArtifactStore;
import dev.mlops.api.spi.TransferStatus;
import dev.mlops.runtime.registry.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link ArtifactStore} in PostgreSQL, for small and medium models without another system to
 * run: each file in chunks of {@code bytea} (1 MiB by default) in the tables that the module's
 * migrations create, beside the registry's own (see {@link PostgresModelStore}).
 *
 * <pre>{@code
 * ArtifactStore artifacts =
 *     PostgresArtifactStore.builder(dataSource).cache(Path.of("/var/cache/mlops")).build();
 * }</pre>
 *
 * <p>Guarantees:
 *
 * <ul>
 *   <li>a put is one transaction: the artifact's row, its file list and every chunk, so another
 *       reader sees nothing or all of it, and a failed put (a missing file, a file whose digest is
 *       not the listed one, a lost connection) leaves nothing;
 *   <li>a put of a stored digest changes nothing; a put of one being stored by another transaction
 *       waits for it and then changes nothing (or stores it, if that one rolled back);
 *   <li>files are streamed chunk by chunk in both directions: neither a put nor a read holds more
 *       than a chunk or two of a file in memory;
 *   <li>{@link #materialize} fills a local {@link ArtifactCache}, which checks every file's size
 *       and SHA-256 before it returns the directory: a chunk changed in the database behind the
 *       store gives an {@link IntegrityException} and caches nothing.
 * </ul>
 *
 * <p>Thread-safe: it borrows a connection from the data source per call. Several processes may
 * share the database, each with its own cache directory. Closing the store leaves the data source
 * open (it belongs to the caller) and makes later calls throw {@link ClosedException}.
 */
public final class PostgresArtifactStore implements ArtifactStore {

  private static final Logger LOG = LoggerFactory.getLogger(PostgresArtifactStore.class);
  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");

  /** The default chunk size: 1 MiB. */
  public static final int DEFAULT_CHUNK_BYTES = 1 << 20;

  /** The largest chunk size: 64 MiB (PostgreSQL takes up to 1 GB in a field, but not kindly). */
  public static final int MAX_CHUNK_BYTES = 64 << 20;

  private final DataSource dataSource;
  private final ArtifactCache cache;
  private final int chunkBytes;
  private volatile boolean closed;

  private PostgresArtifactStore(DataSource dataSource, ArtifactCache cache, int chunkBytes) {
    this.dataSource = dataSource;
    this.cache = cache;
    this.chunkBytes = chunkBytes;
  }

  /**
   * Starts a store on {@code dataSource}; {@link Builder#build()} creates or migrates the schema.
   *
   * @param dataSource where connections come from; the store borrows one per call
   */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** Builds a {@link PostgresArtifactStore}. Each option is set at most once. Not thread-safe. */
  public static final class Builder {
    private final DataSource dataSource;
    private Path cache;
    private Integer chunkBytes;

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * The local directory of the store's {@link ArtifactCache}; required. One store, in one
     * process, per directory.
     *
     * @throws IllegalStateException if the cache is already set
     */
    public Builder cache(Path directory) {
      Objects.requireNonNull(directory, "directory");
      if (cache != null) {
        throw new IllegalStateException("cache is already set to " + cache);
      }
      cache = directory;
      return this;
    }

    /**
     * The size of the chunks that new files are cut into, from 1 to {@link #MAX_CHUNK_BYTES};
     * {@link #DEFAULT_CHUNK_BYTES} if not set. Stored files keep their chunks: a store reads any.
     *
     * @throws IllegalArgumentException if out of range
     * @throws IllegalStateException if the chunk size is already set
     */
    public Builder chunkBytes(int bytes) {
      if (bytes < 1 || bytes > MAX_CHUNK_BYTES) {
        throw new IllegalArgumentException(
            "chunkBytes must be between 1 and " + MAX_CHUNK_BYTES + ": " + bytes);
      }
      if (chunkBytes != null) {
        throw new IllegalStateException("chunkBytes is already set to " + chunkBytes);
      }
      chunkBytes = bytes;
      return this;
    }

    /**
     * Creates or migrates the schema, opens the cache and the store.
     *
     * @throws IllegalStateException if the cache directory is not set
     * @throws RegistryException if the database cannot be reached, a migration fails (nothing is
     *     applied then), the schema is newer than this code, or the cache cannot be opened
     */
    public PostgresArtifactStore build() {
      if (cache == null) {
        throw new IllegalStateException(
            "cache is not set: give the store a local directory with cache(Path)");
      }
      ArtifactCache opened = ArtifactCache.open(cache);
      try (Connection c = dataSource.getConnection()) {
        Migrations.migrate(c, Migrations.LATEST, Migrations.SCRIPTS);
      } catch (SQLException e) {
        throw failure("create or migrate the registry schema", e, "; nothing was changed");
      }
      return new PostgresArtifactStore(
          dataSource, opened, chunkBytes == null ? DEFAULT_CHUNK_BYTES : chunkBytes);
    }
  }

  /**
   * Stores the listed files of {@code directory} in one transaction, each streamed in chunks and
   * checked against its listed size and digest as it is read.
   *
   * @throws IntegrityException if a file is not the listed one (nothing is stored)
   * @throws RegistryException if a file is missing or the database fails (nothing is stored)
   */
  @Override
  public void put(String digest, Path directory, List<ArtifactFile> files) {
    checkDigest(digest);
    Objects.requireNonNull(directory, "directory");
    List<ArtifactFile> listed = List.copyOf(files);
    checkOpen();
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        if (!insertArtifact(c, digest)) {
          // Stored already: only its time moves, so that a collection spares it.
          try (PreparedStatement touch =
              c.prepareStatement("UPDATE artifacts SET stored_at = now() WHERE digest = ?")) {
            touch.setString(1, digest);
            touch.executeUpdate();
          }
          c.commit();
          return;
        }
        try (PreparedStatement file =
                c.prepareStatement(
                    "INSERT INTO artifact_files (digest, path, size, sha256) VALUES (?, ?, ?, ?)");
            PreparedStatement chunk =
                c.prepareStatement(
                    "INSERT INTO artifact_chunks (digest, path, seq, bytes) VALUES (?, ?, ?, ?)")) {
          byte[] buf = new byte[chunkBytes];
          for (ArtifactFile f : listed) {
            file.setString(1, digest);
            file.setString(2, f.path());
            file.setLong(3, f.size());
            file.setString(4, f.sha256());
            file.executeUpdate();
            writeChunks(chunk, digest, directory, f, buf);
          }
        }
        c.commit();
        LOG.debug("stored artifact {} ({} files) in PostgreSQL", digest, listed.size());
      } catch (NoSuchFileException e) {
        rollback(c);
        throw new RegistryException(
            "cannot store artifact "
                + digest
                + " in PostgreSQL: a listed file is missing: "
                + e.getFile()
                + "; nothing was stored",
            e);
      } catch (IOException e) {
        rollback(c);
        throw new RegistryException(
            "cannot store artifact "
                + digest
                + " in PostgreSQL: cannot read "
                + directory
                + ": "
                + e
                + "; nothing was stored",
            e);
      } catch (SQLException | RuntimeException e) {
        rollback(c);
        throw e;
      } finally {
        restore(c, autoCommit);
      }
    } catch (SQLException e) {
      throw failure("store artifact " + digest, e, "; nothing was stored");
    }
  }

  /** Whether this transaction inserted the artifact's row (false: it is stored already). */
  private static boolean insertArtifact(Connection c, String digest) throws SQLException {
    // A concurrent put of the digest holds the key until it ends: this waits for it, then finds
    // the row (it committed) or inserts it (it rolled back). A unique violation would abort the
    // transaction, hence ON CONFLICT and the row count.
    try (PreparedStatement p =
        c.prepareStatement("INSERT INTO artifacts (digest) VALUES (?) ON CONFLICT DO NOTHING")) {
      p.setString(1, digest);
      return p.executeUpdate() == 1;
    }
  }

  private static void writeChunks(
      PreparedStatement chunk, String digest, Path directory, ArtifactFile f, byte[] buf)
      throws IOException, SQLException {
    MessageDigest md = Storage.sha256();
    long size = 0;
    int seq = 0;
    try (InputStream in =
        Files.newInputStream(directory.resolve(f.path()), LinkOption.NOFOLLOW_LINKS)) {
      int n;
      while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
        md.update(buf, 0, n);
        size += n;
        chunk.setString(1, digest);
        chunk.setString(2, f.path());
        chunk.setInt(3, seq++);
        chunk.setBytes(4, n == buf.length ? buf : Arrays.copyOf(buf, n));
        chunk.executeUpdate();
      }
    }
    String sha = Storage.hex(md.digest());
    if (size != f.size() || !sha.equals(f.sha256())) {
      throw new IntegrityException(
          "cannot store artifact "
              + digest
              + ": file "
              + f.path()
              + " is not the listed one: expected sha256 "
              + f.sha256()
              + " ("
              + f.size()
              + " bytes) but found sha256 "
              + sha
              + " ("
              + size
              + " bytes) in "
              + directory
              + "; nothing was stored");
    }
  }

  /**
   * Whether the artifact is stored (its transaction committed).
   *
   * @throws RegistryException if the database fails
   */
  /** Every stored artifact with the time of its last put. */
  @Override
  public Map<String, Instant> stored() {
    checkOpen();
    Map<String, Instant> out = new TreeMap<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement p = c.prepareStatement("SELECT digest, stored_at FROM artifacts");
        ResultSet r = p.executeQuery()) {
      while (r.next()) {
        out.put(r.getString(1), r.getTimestamp(2).toInstant());
      }
    } catch (SQLException e) {
      throw failure("list the stored artifacts", e, "");
    }
    return out;
  }

  @Override
  public boolean contains(String digest) {
    checkDigest(digest);
    checkOpen();
    try (Connection c = dataSource.getConnection();
        PreparedStatement p = c.prepareStatement("SELECT 1 FROM artifacts WHERE digest = ?")) {
      p.setString(1, digest);
      try (ResultSet r = p.executeQuery()) {
        return r.next();
      }
    } catch (SQLException e) {
      throw failure("read whether artifact " + digest + " is stored", e, "");
    }
  }

  /**
   * The artifact's directory in the local cache, each file checked against {@code files}; what is
   * not cached, or no longer matches, is read from the database chunk by chunk.
   *
   * @throws IntegrityException if the artifact is not stored, lacks a listed file, or a file read
   *     does not match its record
   * @throws RegistryException if the database or the local file system fails
   */
  @Override
  public Path materialize(String digest, List<ArtifactFile> files) {
    if (!contains(digest)) {
      throw new IntegrityException("artifact " + digest + " is not stored in PostgreSQL");
    }
    return cache.materialize(digest, files, this::fetch);
  }

  private void fetch(String digest, ArtifactFile f, OutputStream out) throws IOException {
    checkOpen();
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      // A cursor (fetch size) needs a transaction; without one pgjdbc reads every row at once.
      c.setAutoCommit(false);
      try {
        try (PreparedStatement p =
            c.prepareStatement("SELECT 1 FROM artifact_files WHERE digest = ? AND path = ?")) {
          p.setString(1, digest);
          p.setString(2, f.path());
          try (ResultSet r = p.executeQuery()) {
            if (!r.next()) {
              throw new IntegrityException(
                  "artifact " + digest + " in PostgreSQL holds no file " + f.path());
            }
          }
        }
        try (PreparedStatement p =
            c.prepareStatement(
                "SELECT bytes FROM artifact_chunks WHERE digest = ? AND path = ? ORDER BY seq")) {
          p.setFetchSize(1);
          p.setString(1, digest);
          p.setString(2, f.path());
          try (ResultSet r = p.executeQuery()) {
            while (r.next()) {
              out.write(r.getBytes(1));
            }
          }
        }
        c.commit();
      } catch (SQLException | IOException | RuntimeException e) {
        rollback(c);
        throw e;
      } finally {
        restore(c, autoCommit);
      }
    } catch (SQLException e) {
      throw failure("read file " + f.path() + " of artifact " + digest, e, "");
    }
  }

  /**
   * Deletes the artifact's rows, then its directory in the local cache.
   *
   * @throws RegistryException if the database fails
   */
  @Override
  public void delete(String digest) {
    checkDigest(digest);
    checkOpen();
    try (Connection c = dataSource.getConnection();
        PreparedStatement p = c.prepareStatement("DELETE FROM artifacts WHERE digest = ?")) {
      p.setString(1, digest);
      p.executeUpdate();
    } catch (SQLException e) {
      throw failure("delete artifact " + digest, e, "; nothing was changed");
    }
    cache.drop(digest);
  }

  /** The local cache's counts and running downloads; always present. */
  @Override
  public Optional<TransferStatus> transferStatus() {
    return Optional.of(cache.status());
  }

  /** Marks the store closed; the data source and the cached files stay. Idempotent. */
  @Override
  public void close() {
    closed = true;
  }

  @Override
  public String toString() {
    return "PostgresArtifactStore[cache=" + cache.directory() + "]";
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException(
          "this PostgresArtifactStore is closed; build another on the data source");
    }
  }

  private static void checkDigest(String digest) {
    Objects.requireNonNull(digest, "digest");
    if (!DIGEST.matcher(digest).matches()) {
      throw new IllegalArgumentException("not a SHA-256 digest: " + digest);
    }
  }

  private static void rollback(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      LOG.debug("cannot roll back: {}", e.toString());
    }
  }

  private static void restore(Connection c, boolean autoCommit) {
    try {
      c.setAutoCommit(autoCommit);
    } catch (SQLException e) {
      LOG.debug("cannot restore autocommit on a connection being returned: {}", e.toString());
    }
  }

  private static RegistryException failure(String what, SQLException e, String outcome) {
    return SqlFailures.of(what, e, outcome);
  }
}
