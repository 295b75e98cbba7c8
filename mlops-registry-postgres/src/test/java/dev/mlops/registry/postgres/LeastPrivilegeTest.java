package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.Codecs;
import dev.mlops.api.PermissionDeniedException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import dev.mlops.testmodels.TestModels;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two database roles of the README: the writer creates the schema, registers and moves aliases;
 * a serving instance on the reader role (SELECT and LISTEN only) serves and follows, and cannot
 * change anything.
 */
class LeastPrivilegeTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "least privilege test");

  @TempDir Path tmp;

  @Test
  void anInstanceOnTheReadOnlyRoleServesAndFollowsButCannotMoveAnAliasOrRegister()
      throws Exception {
    String url = TestDatabases.newDatabase("roles");
    String db = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
    String writerRole = "mlops_writer_" + db;
    String readerRole = "mlops_reader_" + db;
    // The README's SQL for the two roles, as the database's owner runs it.
    try (Connection c = TestDatabases.dataSource(url).getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE ROLE " + writerRole + " LOGIN PASSWORD 'writer-secret'");
      s.execute("CREATE ROLE " + readerRole + " LOGIN PASSWORD 'reader-secret'");
      s.execute("GRANT CONNECT ON DATABASE " + db + " TO " + writerRole + ", " + readerRole);
      s.execute("GRANT USAGE, CREATE ON SCHEMA public TO " + writerRole);
      s.execute("GRANT USAGE ON SCHEMA public TO " + readerRole);
      s.execute(
          "ALTER DEFAULT PRIVILEGES FOR ROLE "
              + writerRole
              + " IN SCHEMA public GRANT SELECT ON TABLES TO "
              + readerRole);
    }
    String server = "postgresql://localhost:" + TestDatabases.server().getPort() + "/" + db;
    URI writerUri =
        URI.create(
            server
                + "?user="
                + writerRole
                + "&password=writer-secret&listen=false&cache="
                + tmp.resolve("writer-cache"));
    URI readerUri =
        URI.create(
            server
                + "?user="
                + readerRole
                + "&password=reader-secret&cache="
                + tmp.resolve("reader-cache"));

    try (GovernedRegistry writer =
        RegistryProvider.openUri(
            writerUri, OnnxRuntimeEngine.builder().build(), Clock.systemUTC())) {
      for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
        writer.register(
            Registration.builder(
                    "cancer",
                    ArtifactSource.file(TestModels.copy(file, tmp.resolve("src-" + file))))
                .build(),
            OPS);
      }
      writer.setAlias("cancer", "production", 1, OPS);

      try (Mlops instance = Mlops.builder().registry(readerUri).build()) {
        Predictor<float[], float[]> p =
            instance.predictor("models:/cancer@production", Codecs.floatRow());
        assertThat(p.predict(new float[30]).version()).isEqualTo(1);

        writer.setAlias("cancer", "production", 2, OPS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (p.predict(new float[30]).version() != 2 && System.nanoTime() < deadline) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        assertThat(p.predict(new float[30]).version()).as("followed the move").isEqualTo(2);

        int auditBefore = writer.audit(AuditQuery.all()).size();
        GovernedRegistry readOnly = instance.registry();
        assertThatThrownBy(() -> readOnly.setAlias("cancer", "production", 1, OPS))
            .isInstanceOf(PermissionDeniedException.class)
            .hasMessageContaining("move alias production of model 'cancer' from 2 to 1")
            .hasMessageContaining("SQLSTATE 42501")
            .hasMessageContaining("nothing was changed")
            .hasMessageContaining("changes need the writer role");
        assertThatThrownBy(
                () ->
                    readOnly.register(
                        Registration.builder(
                                "cancer",
                                ArtifactSource.file(
                                    TestModels.copy(
                                        TestModels.BREAST_CANCER_V1, tmp.resolve("again.onnx"))))
                            .build(),
                        OPS))
            .isInstanceOf(PermissionDeniedException.class);

        assertThat(writer.aliases("cancer").get("production")).isEqualTo(2L);
        assertThat(writer.versions("cancer")).hasSize(2);
        assertThat(writer.audit(AuditQuery.all())).hasSize(auditBefore);
        assertThat(p.predict(new float[30]).version()).isEqualTo(2);
      }
    }
  }
}
