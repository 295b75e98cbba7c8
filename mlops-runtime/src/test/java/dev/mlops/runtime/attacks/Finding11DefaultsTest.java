package dev.mlops.runtime.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.ArtifactTooLargeException;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.InvalidModelRefException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.api.SignatureException;
import dev.mlops.api.UnsafeModelException;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.onnx.TelemetryCalls;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.security.Manifest;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.testmodels.TestModels;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Safe defaults, each attack through the public API: names Windows takes for devices or truncates
 * (as model names, aliases and artifact file names), a caller writing audit entries as the registry
 * itself, artifacts of more files or bytes than a registry should take (a sparse file declares a
 * length it does not hold) and ONNX Runtime's telemetry. Every refusal leaves the registry as it
 * was, with no staging entry left, and nothing outside it touched.
 */
class Finding11DefaultsTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "attack test");

  @TempDir Path tmp;
  private Decoys decoys;
  private Path root;
  private GovernedRegistry registry;

  @BeforeEach
  void open() {
    decoys = Decoys.in(tmp.resolve("outside"));
    root = tmp.resolve("registry");
    registry = LocalModelRegistry.open(root);
  }

  @AfterEach
  void close() {
    registry.close();
    decoys.assertUntouched();
  }

  private Path model(String dir) {
    return TestModels.copy(TestModels.TINY, tmp.resolve(dir));
  }

  // ---------------------------------------------------------------- names

  @ParameterizedTest
  @ValueSource(strings = {"CON", "com1", "nul.txt", "model.", "LPT9", "Aux.onnx"})
  void aModelNamedAsAWindowsDeviceOrEndingInADotIsRefused(String name) throws IOException {
    Path file = model("in");
    SortedMap<String, String> before = snapshot(root);
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder(name, ArtifactSource.file(file)).build(), ALICE))
        .isInstanceOf(InvalidModelRefException.class)
        .hasMessageContaining("model name '" + name + "' is refused")
        .hasMessageContaining("expected a name whose part before the first '.' is none of");
    assertThatThrownBy(() -> registry.versions(name)).isInstanceOf(InvalidModelRefException.class);
    assertThat(registry.models()).isEmpty();
    assertUnchanged(before);
  }

  @Test
  void anAliasNamedAsAWindowsDeviceIsRefused() throws IOException {
    ModelVersion v =
        registry.register(
            Registration.builder("m", ArtifactSource.file(model("in"))).build(), ALICE);
    SortedMap<String, String> before = snapshot(root);
    for (String alias : List.of("aux", "AUX", "nul", "com1")) {
      assertThatThrownBy(() -> registry.setAlias("m", alias, v.version(), ALICE))
          .isInstanceOf(InvalidModelRefException.class)
          .hasMessageContaining("alias '" + alias + "' is refused")
          .hasMessageContaining("Windows reserves");
    }
    assertThat(registry.aliases("m")).isEmpty();
    assertUnchanged(before);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"NUL.bin", "weights.", "weights ", "CON/w.bin", "data./w.bin", "COM\u00b9.bin"})
  void anArtifactDirectoryHoldingAnUnportableNameIsRefusedBeforeAnythingIsCopied(String extra)
      throws IOException {
    Path dir = tmp.resolve("artifact");
    model("artifact");
    Path bad = dir.resolve(extra);
    Files.createDirectories(bad.getParent());
    Files.write(bad, new byte[] {1, 2, 3});
    SortedMap<String, String> before = snapshot(root);
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("m", ArtifactSource.directory(dir, TestModels.TINY))
                        .build(),
                    ALICE))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("is not portable")
        .hasMessageContaining("nothing was registered");
    assertThat(registry.models()).isEmpty();
    assertUnchanged(before);
    // Nor can such an artifact be signed: its manifest would name the file.
    assertThatThrownBy(() -> Manifest.of("m", ArtifactSource.directory(dir, TestModels.TINY)))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("is not portable");
  }

  @Test
  void aModelFileOrStreamNamedAsAWindowsDeviceIsRefused() throws IOException {
    Path file = Files.move(model("in"), tmp.resolve("in").resolve("COM1.onnx"));
    SortedMap<String, String> before = snapshot(root);
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("m", ArtifactSource.file(file)).build(), ALICE))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("the file name 'COM1.onnx' is not portable");
    assertThatThrownBy(
            () ->
                ArtifactSource.stream(
                    new ByteArrayInputStream(TestModels.bytes(TestModels.TINY)), "nul.onnx"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'nul.onnx' is not portable");
    assertThat(registry.models()).isEmpty();
    assertUnchanged(before);
  }

  @Test
  void aStoredVersionHoldingAnUnportableNameIsNotLoadedAndTheRegistryRecordsItAsItself()
      throws IOException {
    Path dir = tmp.resolve("artifact");
    model("artifact");
    Files.write(dir.resolve("weights.bin"), new byte[] {7});
    registry.register(
        Registration.builder("m", ArtifactSource.directory(dir, TestModels.TINY)).build(), ALICE);
    registry.close();
    // A version stored before such names were refused: its metadata names NUL.bin.
    Path meta = root.resolve("models").resolve("m").resolve("1").resolve("version.json");
    String json = Files.readString(meta);
    assertThat(json).contains("\"weights.bin\"");
    Files.writeString(meta, json.replace("\"weights.bin\"", "\"NUL.bin\""));
    registry = LocalModelRegistry.open(root);
    ModelVersion v = registry.versions("m").get(0);
    assertThat(v.files()).extracting(f -> f.path()).contains("NUL.bin");

    assertThatThrownBy(() -> registry.verifiedArtifact(v))
        .isInstanceOf(UnsafeModelException.class)
        .hasMessageContaining("models:/m/1 is refused")
        .hasMessageContaining("the file name 'NUL.bin' is not portable")
        .hasMessageContaining("register the artifact again with the file renamed");
    List<AuditEntry> failures =
        registry.auditLog().stream()
            .filter(e -> e.action() == AuditAction.VERIFICATION_FAILED)
            .toList();
    assertThat(failures).hasSize(1);
    assertThat(failures.get(0).actor()).isEqualTo(AuditInfo.REGISTRY_ACTOR).isEqualTo("mlops");
    assertThat(stagingEntries(root)).isEmpty();
  }

  // ---------------------------------------------------------------- the registry's actor

  @ParameterizedTest
  @ValueSource(strings = {"mlops", "MLOPS", " mlops ", "MlOpS", "mlops\n"})
  void aCallerCannotWriteAuditEntriesAsTheRegistry(String actor) throws IOException {
    Path file = model("in");
    SortedMap<String, String> before = snapshot(root);
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("m", ArtifactSource.file(file)).build(),
                    AuditInfo.by(actor, "posing as the registry")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("actor '" + actor + "' is reserved");
    assertThatThrownBy(() -> new AuditInfo(actor, "")).isInstanceOf(IllegalArgumentException.class);
    assertThat(registry.auditLog()).isEmpty();
    assertUnchanged(before);
  }

  // ---------------------------------------------------------------- caps

  @Test
  void theDefaultCapsAreTenThousandFilesAndEightGibibytes() {
    assertThat(GovernedRegistry.DEFAULT_MAX_ARTIFACT_FILES).isEqualTo(10_000);
    assertThat(GovernedRegistry.DEFAULT_MAX_ARTIFACT_BYTES).isEqualTo(8L * 1024 * 1024 * 1024);
  }

  @Test
  void aSourceOverTheDefaultFileCountIsRefusedBeforeAFileIsCopied() throws IOException {
    Path dir = tmp.resolve("many");
    model("many");
    Path data = Files.createDirectories(dir.resolve("data"));
    for (int i = 0; i < GovernedRegistry.DEFAULT_MAX_ARTIFACT_FILES; i++) {
      Files.write(data.resolve("t" + i + ".bin"), new byte[] {1});
    }
    SortedMap<String, String> before = snapshot(root);
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("m", ArtifactSource.directory(dir, TestModels.TINY))
                        .build(),
                    ALICE))
        .isInstanceOfSatisfying(
            ArtifactTooLargeException.class,
            e -> {
              assertThat(e.limit()).isEqualTo(ArtifactTooLargeException.Limit.FILES);
              assertThat(e.limitValue()).isEqualTo(10_000);
              assertThat(e.found()).isEqualTo(10_001);
            })
        .hasMessageContaining("holds at least 10001 files (counted before copying")
        .hasMessageContaining("over the registry's limit of 10000 files")
        .hasMessageContaining("GovernedRegistry.Builder.maxArtifactFiles(...)");
    assertThat(registry.models()).isEmpty();
    assertUnchanged(before);
  }

  @Test
  void aConfiguredFileCountIsTheLimitAndCanBeRaised() throws IOException {
    Path dir = tmp.resolve("three");
    model("three");
    Files.write(dir.resolve("a.bin"), new byte[] {1});
    Files.write(dir.resolve("b.bin"), new byte[] {2});
    Registration three =
        Registration.builder("m", ArtifactSource.directory(dir, TestModels.TINY)).build();
    try (GovernedRegistry two =
        LocalModelRegistry.builder(tmp.resolve("two")).maxArtifactFiles(2).build()) {
      SortedMap<String, String> before = snapshot(tmp.resolve("two"));
      assertThatThrownBy(() -> two.register(three, ALICE))
          .isInstanceOfSatisfying(
              ArtifactTooLargeException.class, e -> assertThat(e.found()).isEqualTo(3))
          .hasMessageContaining("over the registry's limit of 2 files");
      assertThat(snapshot(tmp.resolve("two"))).isEqualTo(before);
      assertThat(stagingEntries(tmp.resolve("two"))).isEmpty();
    }
    try (GovernedRegistry exact =
        LocalModelRegistry.builder(tmp.resolve("exact")).maxArtifactFiles(3).build()) {
      assertThat(exact.register(three, ALICE).files()).hasSize(3);
    }
  }

  @Test
  void aSparseFileOverAConfiguredSizeCapIsRefusedFromItsDeclaredLengthBeforeCopying()
      throws IOException {
    long cap = 1L << 20;
    Path dir = tmp.resolve("sparse");
    model("sparse");
    long declared = 64L << 30;
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("weights.bin").toFile(), "rw")) {
      f.setLength(declared); // sparse: declares 64 GiB, holds nothing
    }
    long total = declared + Files.size(dir.resolve(TestModels.TINY));
    Path capped = tmp.resolve("capped");
    try (GovernedRegistry small =
        LocalModelRegistry.builder(capped).maxArtifactBytes(cap).build()) {
      SortedMap<String, String> before = snapshot(capped);
      assertThatThrownBy(
              () ->
                  small.register(
                      Registration.builder("m", ArtifactSource.directory(dir, TestModels.TINY))
                          .build(),
                      ALICE))
          .isInstanceOfSatisfying(
              ArtifactTooLargeException.class,
              e -> {
                assertThat(e.limit()).isEqualTo(ArtifactTooLargeException.Limit.BYTES);
                assertThat(e.limitBytes()).isEqualTo(cap);
                // The declared total, not "at least cap + 1": nothing was read to find it.
                assertThat(e.sizeBytes()).isEqualTo(total);
              })
          .hasMessageContaining("is " + total + " bytes, over the registry's limit of " + cap)
          .hasMessageContaining("GovernedRegistry.Builder.maxArtifactBytes(...)");
      assertThat(snapshot(capped)).isEqualTo(before);
      assertThat(stagingEntries(capped)).isEmpty();
    }
  }

  @Test
  void aSparseFileOverTheDefaultSizeCapIsRefusedBeforeCopying() throws IOException {
    Path dir = tmp.resolve("sparse");
    model("sparse");
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("weights.bin").toFile(), "rw")) {
      f.setLength(GovernedRegistry.DEFAULT_MAX_ARTIFACT_BYTES + 1);
    }
    long total =
        GovernedRegistry.DEFAULT_MAX_ARTIFACT_BYTES + 1 + Files.size(dir.resolve(TestModels.TINY));
    SortedMap<String, String> before = snapshot(root);
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("m", ArtifactSource.directory(dir, TestModels.TINY))
                        .build(),
                    ALICE))
        .isInstanceOfSatisfying(
            ArtifactTooLargeException.class,
            e -> {
              assertThat(e.limitBytes()).isEqualTo(GovernedRegistry.DEFAULT_MAX_ARTIFACT_BYTES);
              assertThat(e.sizeBytes()).isEqualTo(total);
            });
    assertThat(registry.models()).isEmpty();
    assertUnchanged(before);
  }

  // ---------------------------------------------------------------- telemetry

  @Test
  void onnxRuntimeTelemetryIsOffUnlessTheEngineBuilderTurnsItOn() {
    TelemetryCalls byDefault = new TelemetryCalls();
    byDefault.build(b -> b).close();
    assertThat(byDefault.calls()).containsExactly(false);
    TelemetryCalls optedIn = new TelemetryCalls();
    optedIn.build(b -> b.telemetry(true)).close();
    assertThat(optedIn.calls()).containsExactly(true);
    // Leave the process as the default engine does.
    new TelemetryCalls().build(b -> b).close();
  }

  // ---------------------------------------------------------------- helpers

  private void assertUnchanged(SortedMap<String, String> before) throws IOException {
    assertThat(snapshot(root)).as("registry directory").isEqualTo(before);
    assertThat(stagingEntries(root)).as("staging entries").isEmpty();
  }

  /** Every path under {@code dir} mapped to "dir" or its content's SHA-256. */
  private static SortedMap<String, String> snapshot(Path dir) throws IOException {
    SortedMap<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        out.put(
            dir.relativize(p).toString(),
            Files.isDirectory(p) ? "dir" : sha256(Files.readAllBytes(p)));
      }
    }
    return out;
  }

  /** What lies in the staging areas of registrations, loads and artifacts. */
  private static List<String> stagingEntries(Path registryRoot) throws IOException {
    List<String> out = new ArrayList<>();
    for (String area : List.of("registrations", "loads", "artifacts")) {
      Path p = registryRoot.resolve("staging").resolve(area);
      if (Files.isDirectory(p)) {
        try (Stream<Path> list = Files.list(p)) {
          list.forEach(q -> out.add(area + "/" + q.getFileName()));
        }
      }
    }
    return out;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
