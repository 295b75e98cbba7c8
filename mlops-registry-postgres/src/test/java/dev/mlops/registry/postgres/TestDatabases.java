package dev.mlops.registry.postgres;

import dev.mlops.test.PostgresServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The test kit's real PostgreSQL server ({@link PostgresServer}: zonky's embedded binaries, one per
 * JVM) with the data sources and backend control these tests use; each test takes a fresh database
 * on it.
 */
final class TestDatabases {

  private TestDatabases() {}

  /** The JVM's server ({@link PostgresServer#shared}). */
  static EmbeddedPostgres server() {
    return PostgresServer.shared();
  }

  /** A new, empty database on the shared server; returns its JDBC URL. */
  static String newDatabase(String prefix) {
    return PostgresServer.jdbcUrl(PostgresServer.newDatabase(prefix));
  }

  /** A plain pgjdbc data source (a new connection per borrow) on {@code url}. */
  static DataSource dataSource(String url) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(url);
    ds.setApplicationName("mlops-registry-postgres-test");
    return ds;
  }

  /** Terminates one backend with {@code pg_terminate_backend}; fails unless it was there. */
  static void terminate(String url, int pid) {
    try (Connection c = dataSource(url).getConnection();
        java.sql.PreparedStatement p = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
      p.setInt(1, pid);
      try (java.sql.ResultSet r = p.executeQuery()) {
        r.next();
        if (!r.getBoolean(1)) {
          throw new IllegalStateException("backend " + pid + " was not there to terminate");
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot terminate backend " + pid + ": " + e, e);
    }
  }
}
