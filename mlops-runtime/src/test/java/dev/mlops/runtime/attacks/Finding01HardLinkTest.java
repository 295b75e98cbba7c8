package dev.mlops.runtime.attacks;

import static dev.mlops.runtime.local.RegistryTestSupport.snapshot;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.UnsafeModelException;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.onnx.ExternalDataModels;
import dev.mlops.runtime.onnx.ExternalDataModels.Placement;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.runtime.testing.Stored;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hard-link exfiltration: a model whose external data is a hard link to a secret outside the source
 * directory must not register, and a link planted among the stored files must not load; {@code
 * predict} never returns the secret's bytes.
 */
class Finding01HardLinkTest {

  private static final AuditInfo MALLORY = AuditInfo.by("mallory", "attack");

  @TempDir Path tmp;

  private Path modelWithExternalData(String name) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Files.write(
        dir.resolve("model.onnx"), ExternalDataModels.of(Placement.INITIALIZER, "w.bin").toBytes());
    return dir;
  }

  @Test
  void sourceHoldingAHardLinkToASecretIsRefusedAndNothingIsRegistered() throws Exception {
    Decoys decoys = Decoys.in(tmp.resolve("outside"));
    Path src = modelWithExternalData("src");
    Files.createLink(src.resolve("w.bin"), decoys.file("secret.key"));
    try (GovernedRegistry registry = LocalModelRegistry.open(tmp.resolve("reg"))) {
      Path root = LocalModelRegistry.root(registry).orElseThrow();
      SortedMap<String, String> before = snapshot(root);

      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("exfil", ArtifactSource.directory(src, "model.onnx"))
                          .build(),
                      MALLORY))
          .isInstanceOf(UnsafeModelException.class)
          .hasMessageContaining("w.bin")
          .hasMessageContaining("hard link");

      assertThat(registry.models()).isEmpty();
      assertThat(stagingEntries(root)).isEmpty();
      assertThat(snapshot(root)).isEqualTo(before);
    }
    decoys.assertUntouched();
  }

  @Test
  void hardLinkToASecretPlantedAmongStoredFilesIsRefusedBeforeLoading() throws Exception {
    Decoys decoys = Decoys.in(tmp.resolve("outside"));
    Path src = modelWithExternalData("src");
    Files.write(src.resolve("w.bin"), ExternalDataModels.weightBytes());
    try (GovernedRegistry registry = LocalModelRegistry.open(tmp.resolve("reg"));
        Mlops mlops = Mlops.builder().registry(registry).build()) {
      ModelVersion v =
          registry.register(
              Registration.builder("ext", ArtifactSource.directory(src, "model.onnx")).build(),
              MALLORY);
      Path stored = Stored.directory(registry, v).resolve("w.bin");
      Files.delete(stored);
      Files.createLink(stored, decoys.file("secret.key"));

      assertThatThrownBy(() -> mlops.predictor("models:/ext/1", Codecs.floatRow()))
          .isInstanceOf(MlopsException.class)
          .hasMessageContaining("w.bin");
      // Nothing that loads returns the secret: the only way to serve is the verified bytes.
      assertThatThrownBy(() -> Stored.verifiedModelBytes(registry, v))
          .isInstanceOf(MlopsException.class);
    }
    decoys.assertUntouched();
  }

  @Test
  void theLegitimateModelServesItsOwnWeights() throws Exception {
    Decoys decoys = Decoys.in(tmp.resolve("outside"));
    Path src = modelWithExternalData("src");
    Files.write(src.resolve("w.bin"), ExternalDataModels.weightBytes());
    try (GovernedRegistry registry = LocalModelRegistry.open(tmp.resolve("reg"));
        Mlops mlops = Mlops.builder().registry(registry).build()) {
      registry.register(
          Registration.builder("ext", ArtifactSource.directory(src, "model.onnx")).build(),
          MALLORY);
      try (Predictor<float[], float[]> p = mlops.predictor("models:/ext/1", Codecs.floatRow())) {
        assertThat(p.predict(new float[] {1, 2, 3}).value()).containsExactly(2.5f, 0f, 3.25f);
      }
    }
    decoys.assertUntouched();
  }
}
