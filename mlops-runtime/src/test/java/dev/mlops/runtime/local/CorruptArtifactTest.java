package dev.mlops.runtime.local;

import static dev.mlops.runtime.local.RegistryTestSupport.assertCompleteVersions;
import static dev.mlops.runtime.local.RegistryTestSupport.snapshot;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.Registration;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SortedMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A registration that fails on a corrupt artifact changes nothing on disk. */
class CorruptArtifactTest {

  private static final String MODEL = "cancer";
  private static final AuditInfo TESTER = AuditInfo.by("tester", "corrupt artifact test");

  /** Ways a model file can be broken. */
  enum Corruption {
    RANDOM_BYTES {
      @Override
      byte[] bytes() {
        byte[] b = new byte[4096];
        new Random(7).nextBytes(b);
        return b;
      }
    },
    TRUNCATED_MODEL {
      @Override
      byte[] bytes() {
        byte[] model = TestModels.bytes(TestModels.BREAST_CANCER_V1);
        return Arrays.copyOf(model, model.length / 2);
      }
    },
    EMPTY_FILE {
      @Override
      byte[] bytes() {
        return new byte[0];
      }
    };

    abstract byte[] bytes();
  }

  /** How the broken file is handed over. */
  enum Source {
    FILE,
    DIRECTORY_WITH_EXTERNAL_DATA,
    STREAM
  }

  @TempDir Path tmp;
  private Path root;
  private Path good;

  @BeforeEach
  void registryWithOneVersionAndAnAlias() {
    root = tmp.resolve("registry");
    good = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("good"));
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      registry.register(Registration.builder(MODEL, ArtifactSource.file(good)).build(), TESTER);
      registry.setAlias(MODEL, "prod", 1, TESTER);
    }
  }

  @ParameterizedTest
  @EnumSource(Corruption.class)
  void corruptFileOfAnExistingModelIsRejectedAndChangesNothing(Corruption corruption)
      throws Exception {
    for (Source source : Source.values()) {
      assertRejectedWithoutTrace(MODEL, corruption, source);
    }
  }

  @ParameterizedTest
  @EnumSource(Corruption.class)
  void corruptFirstVersionOfANewModelLeavesNoModelBehind(Corruption corruption) throws Exception {
    for (Source source : Source.values()) {
      assertRejectedWithoutTrace("newcomer", corruption, source);
    }
  }

  private void assertRejectedWithoutTrace(String model, Corruption corruption, Source source)
      throws Exception {
    Path dir =
        Files.createDirectories(tmp.resolve("bad-" + model + "-" + corruption + "-" + source));
    Path file = Files.write(dir.resolve("model.onnx"), corruption.bytes());
    Files.write(dir.resolve("weights.bin"), new byte[64 * 1024]);

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      List<AuditEntry> auditBefore = registry.auditLog();
      SortedMap<String, String> before = snapshot(root);

      try (var in = Files.newInputStream(file)) {
        ArtifactSource artifact =
            source == Source.FILE
                ? ArtifactSource.file(file)
                : source == Source.STREAM
                    ? ArtifactSource.stream(in, "model.onnx")
                    : ArtifactSource.directory(dir, "model.onnx");
        assertThatThrownBy(
                () -> registry.register(Registration.builder(model, artifact).build(), TESTER))
            .as("%s via %s", corruption, source)
            .isInstanceOf(ModelLoadException.class)
            .hasMessageContaining("model.onnx");
      }

      assertThat(snapshot(root))
          .as("registry after %s via %s", corruption, source)
          .isEqualTo(before);
      assertThat(stagingEntries(root)).isEmpty();
      assertThat(registry.models()).containsExactly(MODEL);
      assertThat(registry.auditLog()).isEqualTo(auditBefore);
      assertCompleteVersions(registry, MODEL, 1);
    }
  }

  @ParameterizedTest
  @EnumSource(Corruption.class)
  void aRejectedRegistrationUsesNoVersionNumber(Corruption corruption) throws Exception {
    Path bad = Files.write(tmp.resolve("bad.onnx"), corruption.bytes());
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder(MODEL, ArtifactSource.file(bad)).build(), TESTER))
          .isInstanceOf(ModelLoadException.class);

      assertThat(
              registry
                  .register(Registration.builder(MODEL, ArtifactSource.file(good)).build(), TESTER)
                  .version())
          .isEqualTo(2);
      assertCompleteVersions(registry, MODEL, 2);
    }
  }
}
