package dev.mlops.runtime.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link GovernedRegistry#collectGarbage}: unreferenced artifacts go, referenced ones stay. */
class GarbageCollectionTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "gc test");

  @TempDir Path tmp;

  @Test
  void onlyArtifactsNoVersionReferencesAndOlderThanTheMinimumAgeAreDeleted() throws Exception {
    try (GovernedRegistry registry = LocalModelRegistry.builder(tmp.resolve("registry")).build()) {
      ModelVersion v1 =
          registry.register(
              Registration.builder(
                      "cancer",
                      ArtifactSource.file(
                          TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("v1.onnx"))))
                  .build(),
              OPS);
      // What a registration killed after storing its files leaves: an artifact no version names.
      Path orphanDir = Files.createDirectories(tmp.resolve("orphan"));
      byte[] bytes = TestModels.bytes(TestModels.TINY);
      Files.write(orphanDir.resolve("tiny.onnx"), bytes);
      ArtifactFile file = new ArtifactFile("tiny.onnx", bytes.length, Storage.sha256Hex(bytes));
      String orphan = GovernedRegistry.manifestDigest(List.of(file));
      registry.artifacts().put(orphan, orphanDir, List.of(file));
      assertThat(registry.artifacts().stored()).containsOnlyKeys(v1.digest(), orphan);

      assertThat(registry.collectGarbage(Duration.ofHours(1)))
          .as("nothing is an hour old yet")
          .isEmpty();
      assertThat(registry.collectGarbage(Duration.ZERO)).containsExactly(orphan);
      assertThat(registry.artifacts().stored()).containsOnlyKeys(v1.digest());
      assertThat(registry.collectGarbage(Duration.ZERO)).isEmpty();
      assertThat(registry.verifiedArtifact(v1)).isNotNull();
      assertThatThrownBy(() -> registry.collectGarbage(Duration.ofSeconds(-1)))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
