package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import dev.mlops.test.PostgresServer;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test kit's embedded PostgreSQL server, used as its README section shows. */
class PostgresServerTest {

  @TempDir Path tmp;

  @Test
  void theReadmeSnippetServesAModelFromAFreshDatabaseOfItsOwn() throws Exception {
    String db = PostgresServer.newDatabase("orders");
    String other = PostgresServer.newDatabase("orders");
    assertThat(db).startsWith("orders_").isNotEqualTo(other);
    assertThat(PostgresServer.registryUri(db).toString())
        .isEqualTo(
            "postgresql://localhost:"
                + PostgresServer.shared().getPort()
                + "/"
                + db
                + "?user=postgres");
    try (Mlops mlops = Mlops.builder().registry(PostgresServer.registryUri(db)).build()) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "tiny",
                      ArtifactSource.file(TestModels.copy(TestModels.TINY, tmp.resolve("t.onnx"))))
                  .build(),
              AuditInfo.by("alice", "snippet"));
      try (Predictor<float[], float[]> p = mlops.predictor("models:/tiny/1", Codecs.floatRow())) {
        float[] x = {1f, 2f, 3f, 4f};
        float[] expected = TestModels.tinyOutput(x);
        float[] y = p.predict(x).value();
        for (int i = 0; i < expected.length; i++) {
          assertThat(y[i]).isCloseTo(expected[i], within(1e-5f));
        }
      }
    }
    // The version is in that database, and only there.
    assertThat(versions(db)).isEqualTo(1);
    assertThat(tables(other)).isZero();
  }

  @Test
  void aPrefixThatIsNotAPlainSqlNameIsRefused() {
    assertThatThrownBy(() -> PostgresServer.newDatabase("a; DROP DATABASE postgres"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("letters, digits and underscores");
  }

  private static long versions(String db) throws Exception {
    try (Connection c = TestDatabases.dataSource(PostgresServer.jdbcUrl(db)).getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM versions")) {
      r.next();
      return r.getLong(1);
    }
  }

  private static long tables(String db) throws Exception {
    try (Connection c = TestDatabases.dataSource(PostgresServer.jdbcUrl(db)).getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")) {
      r.next();
      return r.getLong(1);
    }
  }
}
