package dev.mlops.registry.postgres;

import dev.mlops.api.RegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's schema, as versioned scripts under {@code dev/mlops/registry/postgres/migrations}:
 * {@code V1__registry.sql}, {@code V2__...}, each applied once, in order, and recorded in {@code
 * schema_version}. {@link #migrate} applies the missing ones in one transaction under a
 * transaction-scoped advisory lock, so instances starting at once on one database migrate it once
 * and the others find it done; a schema newer than this code is refused.
 *
 * <p>To change the schema, add the next script and its name to {@link #SCRIPTS}; never edit one
 * that was released.
 */
final class Migrations {

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

  /** The scripts, oldest first; the schema version after script {@code i} is {@code i + 1}. */
  static final List<String> SCRIPTS =
      List.of("V1__registry.sql", "V2__artifacts.sql", "V3__rollouts.sql");

  /** The schema version this code reads and writes. */
  static final int LATEST = SCRIPTS.size();

  /** Key of the advisory lock that orders migrations ("mlops-mi" in ASCII). */
  static final long LOCK_KEY = 0x6d6c6f70732d6d69L;

  private Migrations() {}

  /**
   * Brings the schema of {@code c}'s database to {@link #LATEST}, in one transaction.
   *
   * @return the schema version found before, 0 for an empty database
   * @throws RegistryException if the database's schema is newer than this code, or a script fails
   *     (nothing is applied then)
   */
  static int migrate(Connection c, int latest, List<String> scripts) throws SQLException {
    // A schema already current needs no lock and no DDL: a read-only role (a serving instance)
    // can open it.
    if (hasVersionTable(c)) {
      int found = current(c);
      if (found == latest) {
        return found;
      }
    }
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      try (Statement s = c.createStatement()) {
        s.execute("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")");
        s.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
                + " version integer PRIMARY KEY,"
                + " script text NOT NULL,"
                + " applied_at timestamptz NOT NULL DEFAULT now())");
      }
      int found = current(c);
      if (found > latest) {
        throw new RegistryException(
            "the registry schema in this database is at version "
                + found
                + " but this mlops-registry-postgres supports versions up to "
                + latest
                + "; a newer mlops migrated it: upgrade this application's mlops, or point it at"
                + " another database");
      }
      for (int v = found + 1; v <= latest; v++) {
        String script = scripts.get(v - 1);
        try (Statement s = c.createStatement()) {
          s.execute(read(script));
        } catch (SQLException e) {
          throw new RegistryException(
              "cannot apply migration "
                  + script
                  + " (schema version "
                  + (v - 1)
                  + " to "
                  + v
                  + "): "
                  + e.getMessage()
                  + "; nothing was applied",
              e);
        }
        try (PreparedStatement p =
            c.prepareStatement("INSERT INTO schema_version (version, script) VALUES (?, ?)")) {
          p.setInt(1, v);
          p.setString(2, script);
          p.executeUpdate();
        }
      }
      c.commit();
      if (found < latest) {
        LOG.info("migrated the registry schema from version {} to {}", found, latest);
      }
      return found;
    } catch (RuntimeException | SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }

  private static boolean hasVersionTable(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT to_regclass('schema_version') IS NOT NULL")) {
      r.next();
      return r.getBoolean(1);
    }
  }

  /** The highest version recorded in {@code schema_version}, 0 if none. */
  static int current(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT coalesce(max(version), 0) FROM schema_version")) {
      r.next();
      return r.getInt(1);
    }
  }

  private static String read(String script) {
    String resource = "migrations/" + script;
    try (InputStream in = Migrations.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            "migration script " + resource + " is not on the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new RegistryException("cannot read migration script " + resource + ": " + e, e);
    }
  }
}
