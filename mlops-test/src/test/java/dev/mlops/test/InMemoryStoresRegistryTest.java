package dev.mlops.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-memory stores serve a real registry: registration, verification, aliases, audit, events,
 * deletion.
 */
class InMemoryStoresRegistryTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "in-memory test");

  @TempDir Path tmp;

  @Test
  void aRegistryOverTheInMemoryStoresRegistersVerifiesMovesAndDeletes() throws Exception {
    Path v1File = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    Path v2File = TestModels.copy(TestModels.BREAST_CANCER_V2, tmp.resolve("src"));
    InMemoryArtifactStore artifacts = InMemoryArtifactStore.create(tmp.resolve("artifacts"));
    List<String> events = new CopyOnWriteArrayList<>();
    byte[] card = "model card".getBytes(StandardCharsets.UTF_8);
    Map<String, Tensor> example = Map.of("features", Tensor.ofFloats(new float[30], 1, 30));
    try (GovernedRegistry registry =
        GovernedRegistry.builder(InMemoryModelStore.create(), artifacts)
            .staging(tmp.resolve("staging"))
            .build()) {
      registry.addListener(e -> events.add(e.getClass().getSimpleName()));

      ModelVersion v1 =
          registry.register(
              Registration.builder("cancer", ArtifactSource.file(v1File))
                  .attachment("card.txt", card)
                  .inputExample(example)
                  .build(),
              ALICE);
      ModelVersion v2 =
          registry.register(
              Registration.builder("cancer", ArtifactSource.file(v2File)).build(), ALICE);
      assertThat(List.of(v1.version(), v2.version())).containsExactly(1L, 2L);
      try (var a = registry.verifiedArtifact(v1)) {
        assertThat(a.location().modelFile()).hasFileName(TestModels.BREAST_CANCER_V1);
      }
      try (var a = registry.verifiedArtifact(v2)) {
        assertThat(Files.readAllBytes(a.location().modelFile()))
            .isEqualTo(TestModels.bytes(TestModels.BREAST_CANCER_V2));
      }
      assertThat(registry.attachment(v1, "card.txt"))
          .hasValueSatisfying(b -> assertThat(b).isEqualTo(card));
      assertThat(registry.inputExample(v1)).contains(example);

      assertThat(registry.setAlias("cancer", "production", 1, ALICE)).isEmpty();
      registry.compareAndSetAlias("cancer", "production", 1, 2, ALICE);
      assertThat(registry.get(ModelRef.parse("models:/cancer@production"))).isEqualTo(v2);
      registry.delete("cancer", 1, ALICE);
      assertThat(artifacts.contains(v1.digest())).as("the deleted version's artifact").isFalse();
      assertThat(registry.versions("cancer")).containsExactly(v2);

      assertThat(registry.auditLog().stream().map(AuditEntry::action).collect(Collectors.toList()))
          .containsExactly(
              AuditAction.REGISTER,
              AuditAction.REGISTER,
              AuditAction.SET_ALIAS,
              AuditAction.SET_ALIAS,
              AuditAction.DELETE_VERSION);
      assertThat(events)
          .containsExactly(
              LifecycleEvent.VersionRegistered.class.getSimpleName(),
              LifecycleEvent.VersionRegistered.class.getSimpleName(),
              LifecycleEvent.AliasMoved.class.getSimpleName(),
              LifecycleEvent.AliasMoved.class.getSimpleName(),
              LifecycleEvent.VersionDeleted.class.getSimpleName());
    }
  }
}
