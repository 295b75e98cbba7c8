package dev.mlops.cli;

import dev.mlops.test.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;

/** Registries on the test kit's real PostgreSQL server ({@link PostgresServer}), for the ITs. */
final class TestPostgres {

  private TestPostgres() {}

  /** A new, empty database; returns its registry URI ({@code postgresql://...?user=postgres}). */
  static String newRegistry(String prefix) {
    return PostgresServer.registryUri(PostgresServer.newDatabase(prefix)).toString();
  }

  /** Runs one SQL statement on the registry's database; returns the update count. */
  static int execute(String registryUri, String sql, Object... params) {
    String db = registryUri.substring(registryUri.lastIndexOf('/') + 1, registryUri.indexOf('?'));
    try (Connection c = PostgresServer.shared().getDatabase("postgres", db).getConnection();
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
