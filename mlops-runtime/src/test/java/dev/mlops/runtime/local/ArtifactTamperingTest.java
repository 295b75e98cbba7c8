package dev.mlops.runtime.local;

import static dev.mlops.runtime.local.RegistryTestSupport.snapshot;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.Codecs;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.RegistryException;
import dev.mlops.api.UnsafeModelException;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.onnx.ExternalDataModels;
import dev.mlops.runtime.onnx.ExternalDataModels.Placement;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A version's directory must hold exactly its recorded files, and a model's external data must stay
 * among them: at registration, and again before every load.
 */
class ArtifactTamperingTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "test");

  @TempDir Path tmp;
  private CountingEngine engine;
  private GovernedRegistry registry;

  @BeforeEach
  void open() {
    engine = new CountingEngine();
    registry = LocalModelRegistry.builder(tmp.resolve("reg")).engine(engine).build();
  }

  @AfterEach
  void close() {
    registry.close();
    engine.close();
  }

  private Path externalDataDir(String name, Placement where, String location) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Files.write(dir.resolve("model.onnx"), ExternalDataModels.of(where, location).toBytes());
    Files.write(dir.resolve("weights.bin"), ExternalDataModels.weightBytes());
    return dir;
  }

  private ModelVersion registerExternal() throws Exception {
    Path dir = externalDataDir("ext", Placement.INITIALIZER, "weights.bin");
    return registry.register(
        Registration.builder("ext", ArtifactSource.directory(dir, "model.onnx")).build(), ALICE);
  }

  private ModelVersion registerPlain() {
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("plain"));
    return registry.register(
        Registration.builder("cancer", ArtifactSource.file(file)).build(), ALICE);
  }

  private Path files(ModelVersion v) {
    return RegistryTestSupport.artifactDir(registry, v);
  }

  private List<AuditEntry> verificationFailures() {
    return registry.audit(AuditQuery.builder().actions(AuditAction.VERIFICATION_FAILED).build());
  }

  @Test
  void externalDataModelRegistersAndServesTheRightResultsThroughAPredictor() throws Exception {
    ModelVersion v = registerExternal();
    assertThat(v.files()).extracting(f -> f.path()).containsExactly("model.onnx", "weights.bin");
    try (Mlops mlops = Mlops.builder().registry(registry).engine(engine).build();
        Predictor<float[], float[]> p = mlops.predictor("models:/ext/1", Codecs.floatRow())) {
      Prediction<float[]> out = p.predict(new float[] {1, 2, 3});
      assertThat(out.value()).containsExactly(2.5f, 0f, 3.25f);
      assertThat(out.version()).isEqualTo(1);
    }
    assertThat(engine.live()).isZero();
  }

  @ParameterizedTest
  @EnumSource(Placement.class)
  void
      externalDataLeavingTheSourceDirectoryIsRefusedAtRegistrationBeforeOnnxRuntimeAndChangesNothing(
          Placement where) throws Exception {
    registerPlain();
    Files.write(tmp.resolve("secret.bin"), ExternalDataModels.weightBytes());
    Path dir = externalDataDir("evil-" + where, where, "../secret.bin");
    SortedMap<String, String> before = snapshot(LocalModelRegistry.root(registry).orElseThrow());
    int opens = engine.opens.get();

    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("evil", ArtifactSource.directory(dir, "model.onnx"))
                        .build(),
                    ALICE))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("'../secret.bin'")
        .hasMessageContaining("'..' segment");

    assertThat(engine.opens.get()).as("models handed to ONNX Runtime").isEqualTo(opens);
    assertThat(snapshot(LocalModelRegistry.root(registry).orElseThrow())).isEqualTo(before);
    assertThat(stagingEntries(LocalModelRegistry.root(registry).orElseThrow())).isEmpty();
    assertThat(registry.models()).containsExactly("cancer");
  }

  @Test
  void externalDataNamingAFileThatWasNotRegisteredIsRefused() throws Exception {
    Path dir = externalDataDir("missing", Placement.INITIALIZER, "other.bin");
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("ext", ArtifactSource.directory(dir, "model.onnx"))
                        .build(),
                    ALICE))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("other.bin does not exist");
    assertThat(registry.models()).isEmpty();
  }

  @Test
  void extraFileInTheVersionDirectoryIsRefusedAndRecorded() throws Exception {
    ModelVersion v = registerExternal();
    Path planted = Files.write(files(v).resolve("planted.bin"), new byte[] {1});

    assertThatThrownBy(() -> registry.verifiedArtifact(v))
        .isInstanceOf(IntegrityException.class)
        .hasMessageContaining(
            "file planted.bin in the artifact directory of models:/ext/1 is not in its manifest");
    assertThat(verificationFailures())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.model()).isEqualTo("ext");
              assertThat(e.actor()).isEqualTo("mlops");
              assertThat(e.details())
                  .containsEntry("version", "1")
                  .hasEntrySatisfying("error", m -> assertThat(m).contains("planted.bin"));
            });
    Files.delete(planted);
    assertThat(dev.mlops.runtime.testing.Stored.verifiedModelBytes(registry, v)).isNotEmpty();
  }

  @Test
  void symlinkInPlaceOfAFileOrADirectoryIsRefused() throws Exception {
    ModelVersion v = registerExternal();
    Path weights = files(v).resolve("weights.bin");
    Path copy = Files.copy(weights, tmp.resolve("copy.bin"));
    Files.delete(weights);
    Files.createSymbolicLink(weights, copy);
    assertThatThrownBy(() -> registry.verifiedArtifact(v))
        .isInstanceOf(IntegrityException.class)
        .hasMessageContaining("file weights.bin of models:/ext/1 is a symbolic link");

    Files.delete(weights);
    Files.copy(copy, weights);
    assertThat(dev.mlops.runtime.testing.Stored.verifiedModelBytes(registry, v)).isNotEmpty();
    Path sub = Files.createDirectories(tmp.resolve("elsewhere"));
    Files.createSymbolicLink(files(v).resolve("sub"), sub);
    assertThatThrownBy(() -> registry.verifiedArtifact(v))
        .isInstanceOf(IntegrityException.class)
        .hasMessageContaining("sub of models:/ext/1 is a symbolic link");
  }

  @Test
  void hardLinkToStoredExternalDataIsRefusedBeforeLoading() throws Exception {
    ModelVersion v = registerExternal();
    Files.createLink(tmp.resolve("backdoor.bin"), files(v).resolve("weights.bin"));

    assertThatThrownBy(() -> registry.verifiedArtifact(v))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("'weights.bin'")
        .hasMessageContaining("2 hard links");
    assertThat(verificationFailures()).hasSize(1);
  }

  @Test
  void changedFileListIsRefusedEvenWhenEveryFileMatchesIt() throws Exception {
    ModelVersion v = registerPlain();
    Path json =
        LocalModelRegistry.root(registry).orElseThrow().resolve("models/cancer/1/version.json");
    Files.writeString(json, Files.readString(json).replace(v.digest(), "0".repeat(64)));
    try (GovernedRegistry reopened =
        LocalModelRegistry.builder(LocalModelRegistry.root(registry).orElseThrow())
            .engine(engine)
            .build()) {
      ModelVersion read = reopened.versions("cancer").get(0);
      assertThatThrownBy(() -> reopened.verifiedArtifact(read))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(
              "the file list of models:/cancer/1 no longer matches its recorded digest");
    }
  }

  @Test
  void dotDotPathInStoredMetadataIsRejected() throws Exception {
    ModelVersion v = registerPlain();
    Path json =
        LocalModelRegistry.root(registry).orElseThrow().resolve("models/cancer/1/version.json");
    Files.writeString(
        json, Files.readString(json).replace("\"breast-cancer-v1.onnx\"", "\"../../../x.onnx\""));
    try (GovernedRegistry reopened =
        LocalModelRegistry.builder(LocalModelRegistry.root(registry).orElseThrow())
            .engine(engine)
            .build()) {
      assertThatThrownBy(() -> reopened.versions("cancer"))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("must not contain '', '.' or '..'");
    }
  }

  @Test
  void emptyModelSymlinkAndSpecialFilesAreRefusedAtRegistration() throws Exception {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    Files.write(empty.resolve("model.onnx"), new byte[0]);
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("m", ArtifactSource.directory(empty, "model.onnx"))
                        .build(),
                    ALICE))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("is empty");

    Path linked = externalDataDir("linked", Placement.INITIALIZER, "weights.bin");
    Files.createSymbolicLink(linked.resolve("more.bin"), linked.resolve("weights.bin"));
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("m", ArtifactSource.directory(linked, "model.onnx"))
                        .build(),
                    ALICE))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("symbolic link more.bin");

    Path fifoDir = externalDataDir("fifo", Placement.INITIALIZER, "weights.bin");
    Process mkfifo = new ProcessBuilder("mkfifo", fifoDir.resolve("pipe").toString()).start();
    if (mkfifo.waitFor() == 0) {
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("m", ArtifactSource.directory(fifoDir, "model.onnx"))
                          .build(),
                      ALICE))
          .isInstanceOf(ModelLoadException.class)
          .hasMessageContaining("pipe, which is not a regular file");
    }
    assertThat(registry.models()).isEmpty();
    assertThat(engine.opens.get()).isZero();
  }
}
