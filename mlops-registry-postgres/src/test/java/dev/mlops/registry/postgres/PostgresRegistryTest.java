package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.local.DirectoryArtifactStore;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A governed registry on the PostgreSQL store (and files in a directory) registers real models,
 * verifies them against their REGISTER entries, moves an alias, and a runtime serves it.
 */
class PostgresRegistryTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "postgres registry test");

  @TempDir Path tmp;

  @Test
  void aRuntimeServesAModelRegisteredAndPromotedInPostgres() throws Exception {
    String url = TestDatabases.newDatabase("registry");
    Path v1File = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("v1"));
    Path v2File = TestModels.copy(TestModels.BREAST_CANCER_V2, tmp.resolve("v2"));
    Path artifacts = tmp.resolve("artifacts");
    GovernedRegistry registry =
        GovernedRegistry.builder(
                () -> PostgresModelStore.builder(TestDatabases.dataSource(url)).build(),
                s -> new DirectoryArtifactStore(artifacts, tmp.resolve("artifact-staging")),
                "postgres test registry")
            .staging(tmp.resolve("staging"))
            .build();
    try (Mlops mlops = Mlops.builder().registry(registry).build()) {
      ModelVersion v1 =
          registry.register(
              Registration.builder("cancer", ArtifactSource.file(v1File)).build(), ALICE);
      ModelVersion v2 =
          registry.register(
              Registration.builder("cancer", ArtifactSource.file(v2File)).build(), ALICE);
      assertThat(List.of(v1.version(), v2.version())).containsExactly(1L, 2L);

      // The registry serves only bytes that match the digest of the version's REGISTER entry.
      List<AuditEntry> registered =
          registry.audit(
              AuditQuery.builder().model("cancer").actions(AuditAction.REGISTER).build());
      assertThat(registered)
          .extracting(e -> e.details().get(AuditDetails.DIGEST))
          .containsExactly(v1.digest(), v2.digest());
      try (var a = registry.verifiedArtifact(v1)) {
        assertThat(Files.readAllBytes(a.location().modelFile()))
            .isEqualTo(TestModels.bytes(TestModels.BREAST_CANCER_V1));
      }

      registry.setAlias("cancer", "production", 1, ALICE);
      Predictor<float[], float[]> p =
          mlops.predictor("models:/cancer@production", Codecs.floatRow());
      Prediction<float[]> first = p.predict(new float[30]);
      assertThat(first.version()).as("version serving the first call").isEqualTo(1);
      assertThat(first.value()).isNotEmpty();

      registry.compareAndSetAlias("cancer", "production", 1, 2, ALICE);
      awaitServing(p, 2);
      assertThat(p.predict(new float[30]).version()).as("version after the move").isEqualTo(2);
      assertThat(registry.get(ModelRef.parse("models:/cancer@production"))).isEqualTo(v2);
      assertThat(
              registry
                  .audit(AuditQuery.builder().model("cancer").alias("production").build())
                  .stream()
                  .map(e -> e.details().get(AuditDetails.TO)))
          .as("audited moves of production")
          .containsExactly("1", "2");

      // Another instance on the same database and artifact directory reads the same registry.
      try (GovernedRegistry other =
          GovernedRegistry.builder(
                  () -> PostgresModelStore.builder(TestDatabases.dataSource(url)).build(),
                  s -> new DirectoryArtifactStore(artifacts, tmp.resolve("artifact-staging-2")),
                  "second instance")
              .staging(tmp.resolve("staging-2"))
              .build()) {
        assertThat(other.versions("cancer")).containsExactly(v1, v2);
        assertThat(other.aliases("cancer")).containsExactly(java.util.Map.entry("production", 2L));
        try (var a = other.verifiedArtifact(v2)) {
          assertThat(Files.readAllBytes(a.location().modelFile()))
              .isEqualTo(TestModels.bytes(TestModels.BREAST_CANCER_V2));
        }
      }
    }
  }

  private static void awaitServing(Predictor<?, ?> p, long version) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (p.servingVersion().map(ModelVersion::version).orElse(0L) != version
        && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    assertThat(p.servingVersion().map(ModelVersion::version))
        .as("version %s serves", p)
        .contains(version);
  }
}
