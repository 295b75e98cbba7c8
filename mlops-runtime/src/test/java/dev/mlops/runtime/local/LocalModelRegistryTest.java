package dev.mlops.runtime.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ConflictException;
import dev.mlops.api.ElementType;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.Lineage;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.VersionStatus;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalModelRegistryTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "first release");
  private static final Instant NOW = Instant.parse("2026-11-27T10:00:00Z");

  @TempDir Path tmp;
  private Path root;
  private GovernedRegistry registry;
  private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void open() {
    root = tmp.resolve("registry");
    registry = LocalModelRegistry.builder(root).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
    registry.addListener(events::add);
  }

  @AfterEach
  void close() {
    registry.close();
  }

  private Path model(String file) {
    return TestModels.copy(file, tmp.resolve("in-" + System.nanoTime()));
  }

  @Test
  void registerRecordsDigestSignatureLineageAndTagsAndNumbersFromOne() throws Exception {
    Path file = model(TestModels.BREAST_CANCER_V1);
    ModelVersion v1 =
        registry.register(
            Registration.builder("cancer", ArtifactSource.file(file))
                .description("logistic regression")
                .tag("team", "risk")
                .lineage(new Lineage("run-17", "sklearn breast_cancer", Map.of("accuracy", 0.979)))
                .build(),
            ALICE);
    String sha =
        HexFormat.of()
            .formatHex(
                java.security.MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(file)));

    assertThat(v1.version()).isEqualTo(1);
    assertThat(v1.status()).isEqualTo(VersionStatus.READY);
    assertThat(v1.createdAt()).isEqualTo(NOW);
    assertThat(v1.createdBy()).isEqualTo("alice");
    assertThat(v1.files())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.path()).isEqualTo("breast-cancer-v1.onnx");
              assertThat(f.sha256()).isEqualTo(sha);
              assertThat(f.size()).isEqualTo(Files.size(file));
            });
    assertThat(v1.signature().inputs())
        .containsExactly(TensorSpec.of("features", ElementType.FLOAT, -1, 30));
    assertThat(v1.signature().outputs())
        .containsExactly(
            TensorSpec.of("probabilities", ElementType.FLOAT, -1, 2),
            TensorSpec.of("label", ElementType.INT64, -1));
    assertThat(v1.tags()).containsEntry("team", "risk");
    assertThat(v1.lineage().metrics()).containsEntry("accuracy", 0.979);

    ModelVersion v2 =
        registry.register(
            Registration.builder("cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V2)))
                .build(),
            ALICE);
    assertThat(v2.version()).isEqualTo(2);
    assertThat(registry.versions("cancer")).containsExactly(v1, v2);
    assertThat(registry.get(ModelRef.parse("models:/cancer"))).isEqualTo(v2);
    assertThat(registry.models()).containsExactly("cancer");
    assertThat(events).hasSize(2).allMatch(e -> e instanceof LifecycleEvent.VersionRegistered);
  }

  @Test
  void stateSurvivesReopening() {
    ModelVersion v1 =
        registry.register(
            Registration.builder("cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V1)))
                .tag("a", "b")
                .build(),
            ALICE);
    registry.setAlias("cancer", "production", 1, ALICE);
    registry.close();
    try (GovernedRegistry again = LocalModelRegistry.open(root)) {
      assertThat(again.versions("cancer")).containsExactly(v1);
      assertThat(again.aliases("cancer")).containsExactly(Map.entry("production", 1L));
      assertThat(again.auditLog())
          .extracting(AuditEntry::action)
          .containsExactly(AuditAction.REGISTER, AuditAction.SET_ALIAS);
    }
  }

  @Test
  void registersADirectoryWithExternalDataAndAStream() throws Exception {
    Path dir = tmp.resolve("artifact");
    TestModels.copy(TestModels.TINY, dir);
    Files.createDirectories(dir.resolve("data"));
    Files.write(dir.resolve("data/weights.bin"), new byte[] {1, 2, 3, 4});
    ModelVersion fromDir =
        registry.register(
            Registration.builder("tiny", ArtifactSource.directory(dir, TestModels.TINY)).build(),
            ALICE);
    assertThat(fromDir.modelFile()).isEqualTo(TestModels.TINY);
    assertThat(fromDir.files())
        .extracting(f -> f.path())
        .containsExactly("data/weights.bin", TestModels.TINY);
    assertThat(
            dev.mlops.runtime.testing.Stored.verifiedCopyHolds(
                registry, fromDir, "data/weights.bin"))
        .isTrue();

    ModelVersion fromStream =
        registry.register(
            Registration.builder(
                    "tiny",
                    ArtifactSource.stream(
                        new ByteArrayInputStream(TestModels.bytes(TestModels.TINY)), "model.onnx"))
                .build(),
            ALICE);
    assertThat(fromStream.version()).isEqualTo(2);
    assertThat(fromStream.files().get(0).sha256())
        .isEqualTo(
            fromDir.files().stream()
                .filter(f -> f.path().equals(TestModels.TINY))
                .findFirst()
                .orElseThrow()
                .sha256());
  }

  @Test
  void directoryWithASymlinkIsRefused() throws Exception {
    Path dir = tmp.resolve("artifact");
    TestModels.copy(TestModels.TINY, dir);
    Files.createSymbolicLink(dir.resolve("link.bin"), Path.of("/etc/hostname"));
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("tiny", ArtifactSource.directory(dir, TestModels.TINY))
                        .build(),
                    ALICE))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("symbolic link link.bin");
    assertThat(registry.versions("tiny")).isEmpty();
  }

  @Test
  void inputExampleIsCheckedAgainstTheSignatureAndStored() {
    Map<String, Tensor> example = Map.of("features", Tensor.ofFloats(new float[60], 2, 30));
    ModelVersion v =
        registry.register(
            Registration.builder("cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V1)))
                .inputExample(example)
                .build(),
            ALICE);
    assertThat(v.hasInputExample()).isTrue();
    assertThat(registry.inputExample(v)).contains(example);

    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder(
                            "cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V1)))
                        .inputExample(Map.of("features", Tensor.ofFloats(new float[29], 1, 29)))
                        .build(),
                    ALICE))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("input 'features': expected float32[?,30] but found float32[1,29]");
    assertThat(registry.versions("cancer")).hasSize(1);
  }

  @Test
  void aliasesMoveWithCompareAndSetAndAreAudited() {
    registry.register(
        Registration.builder("cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V1)))
            .build(),
        ALICE);
    registry.register(
        Registration.builder("cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V2)))
            .build(),
        ALICE);

    assertThat(registry.setAlias("cancer", "production", 1, ALICE)).isEmpty();
    registry.compareAndSetAlias(
        "cancer", "production", 1, 2, AuditInfo.by("bob", "v2 wins the A/B test"));
    assertThat(registry.get(ModelRef.parse("models:/cancer@production")).version()).isEqualTo(2);

    assertThatThrownBy(() -> registry.compareAndSetAlias("cancer", "production", 1, 1, ALICE))
        .isInstanceOf(ConflictException.class)
        .hasMessage(
            "alias 'production' of model 'cancer' points at version 2 but the change expected version 1;"
                + " re-read the alias and retry");
    assertThatThrownBy(() -> registry.setAlias("cancer", "production", 7, ALICE))
        .isInstanceOf(ModelNotFoundException.class);

    assertThat(registry.deleteAlias("cancer", "production", ALICE)).isEqualTo(OptionalLong.of(2));
    assertThat(registry.deleteAlias("cancer", "production", ALICE)).isEmpty();
    assertThat(registry.aliases("cancer")).isEmpty();

    List<AuditEntry> audit = registry.auditLog();
    assertThat(audit)
        .extracting(AuditEntry::action)
        .containsExactly(
            AuditAction.REGISTER,
            AuditAction.REGISTER,
            AuditAction.SET_ALIAS,
            AuditAction.SET_ALIAS,
            AuditAction.DELETE_ALIAS);
    AuditEntry move = audit.get(3);
    assertThat(move.actor()).isEqualTo("bob");
    assertThat(move.reason()).isEqualTo("v2 wins the A/B test");
    assertThat(move.details())
        .containsEntry("alias", "production")
        .containsEntry("from", "1")
        .containsEntry("to", "2");
    assertThat(move.time()).isEqualTo(NOW);
    assertThat(events).filteredOn(e -> e instanceof LifecycleEvent.AliasMoved).hasSize(2);
  }

  @Test
  void archiveAndDeleteAreRefusedWhileAnAliasPointsAtTheVersion() {
    registry.register(
        Registration.builder("cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V1)))
            .build(),
        ALICE);
    registry.register(
        Registration.builder("cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V2)))
            .build(),
        ALICE);
    registry.setAlias("cancer", "production", 2, ALICE);

    assertThatThrownBy(() -> registry.delete("cancer", 2, ALICE))
        .isInstanceOf(ConflictException.class)
        .hasMessage(
            "cannot delete models:/cancer/2: aliases [production] point at it; move or delete them first");
    assertThatThrownBy(() -> registry.archive("cancer", 2, ALICE))
        .isInstanceOf(ConflictException.class);

    assertThat(registry.archive("cancer", 1, ALICE).status()).isEqualTo(VersionStatus.ARCHIVED);
    assertThatThrownBy(() -> registry.setAlias("cancer", "canary", 1, ALICE))
        .isInstanceOf(ConflictException.class);
    registry.deleteAlias("cancer", "production", ALICE);
    registry.archive("cancer", 2, ALICE);
    assertThatThrownBy(() -> registry.get(ModelRef.latest("cancer")))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessage("model 'cancer' has no ready version (all of [1, 2] are archived)");

    registry.delete("cancer", 2, ALICE);
    assertThat(registry.versions("cancer")).extracting(ModelVersion::version).containsExactly(1L);
    assertThat(root.resolve("models/cancer/2")).doesNotExist();
    // Numbers are never reused, even after the highest version is deleted.
    ModelVersion next =
        registry.register(
            Registration.builder("cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V2)))
                .build(),
            ALICE);
    assertThat(next.version()).isEqualTo(3);
  }

  @Test
  void tamperedFileFailsVerificationNamingFileAndBothDigests() throws Exception {
    ModelVersion v =
        registry.register(
            Registration.builder("cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V1)))
                .build(),
            ALICE);
    Path stored = dev.mlops.runtime.testing.Stored.modelFile(registry, v);
    byte[] bytes = Files.readAllBytes(stored);
    bytes[bytes.length / 2] ^= 1;
    Files.write(stored, bytes);
    assertThatThrownBy(() -> registry.verifiedArtifact(v))
        .isInstanceOf(IntegrityException.class)
        .hasMessageStartingWith(
            "file breast-cancer-v1.onnx of models:/cancer/1 has changed since registration: expected sha256 "
                + v.files().get(0).sha256()
                + " but found ");
    Files.delete(stored);
    assertThatThrownBy(() -> registry.verifiedArtifact(v))
        .isInstanceOf(IntegrityException.class)
        .hasMessageContaining("missing");
  }

  @Test
  void corruptModelIsRefusedAndNothingIsRegistered() throws Exception {
    Path bad = tmp.resolve("bad.onnx");
    Files.write(bad, new byte[] {0x08, 0x07, 0x12, 0x7f, 0x01});
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("cancer", ArtifactSource.file(bad)).build(), ALICE))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("bad.onnx");
    Files.write(bad, new byte[0]);
    assertThatThrownBy(
            () ->
                registry.register(
                    Registration.builder("cancer", ArtifactSource.file(bad)).build(), ALICE))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("is empty");
    assertThat(registry.versions("cancer")).isEmpty();
    assertThat(registry.auditLog()).isEmpty();
    assertThat(RegistryTestSupport.stagingEntries(root)).isEmpty();
  }

  @Test
  void attachmentsAreStoredWithTheVersionAndVerifiedWhenRead() throws Exception {
    byte[] card =
        "model card: trained on 426 rows".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ModelVersion v =
        registry.register(
            Registration.builder("cancer", ArtifactSource.file(model(TestModels.BREAST_CANCER_V1)))
                .attachment("model-card.txt", card)
                .build(),
            ALICE);
    assertThat(v.attachments())
        .singleElement()
        .satisfies(a -> assertThat(a.size()).isEqualTo(card.length));
    assertThat(registry.attachment(v, "model-card.txt"))
        .hasValueSatisfying(b -> assertThat(b).isEqualTo(card));
    assertThat(registry.attachment(v, "missing")).isEmpty();
    registry.close();
    try (GovernedRegistry again = LocalModelRegistry.open(root)) {
      ModelVersion reread = again.get(v.ref());
      assertThat(reread.attachments()).isEqualTo(v.attachments());
      Files.write(root.resolve("models/cancer/1/attachments/model-card.txt"), new byte[] {1});
      assertThatThrownBy(() -> again.attachment(reread, "model-card.txt"))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(
              "attachment model-card.txt of models:/cancer/1 has changed since registration");
    }
  }

  @Test
  void missingReferencesExplainWhatExists() {
    assertThat(registry.find(ModelRef.parse("models:/nope"))).isEmpty();
    assertThatThrownBy(() -> registry.get(ModelRef.parse("models:/nope@production")))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("no model 'nope'");
  }
}
