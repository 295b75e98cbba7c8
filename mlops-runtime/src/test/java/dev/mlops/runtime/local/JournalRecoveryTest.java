package dev.mlops.runtime.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Registration;
import dev.mlops.api.RegistryException;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.Json;
import dev.mlops.runtime.registry.Records;
import dev.mlops.runtime.registry.Storage;
import dev.mlops.testmodels.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer that dies between its change's audit entry and the change itself leaves {@code
 * journal.json}: the next writer completes the change when the entry was written and drops it when
 * it was not. The journals here are the ones a writer of this registry writes, made by hand at the
 * two points where a crash can leave one.
 */
class JournalRecoveryTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "release");

  @TempDir Path tmp;
  private Path root;

  @BeforeEach
  void twoVersionsWithProductionOnOne() throws Exception {
    root = tmp.resolve("reg");
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      registry.register(Registration.builder("cancer", ArtifactSource.file(file)).build(), ALICE);
      registry.register(Registration.builder("cancer", ArtifactSource.file(file)).build(), ALICE);
      registry.setAlias("cancer", "production", 1, ALICE);
    }
  }

  /** The state file after moving production to version 2, as the registry writes it. */
  private static String productionOnTwo() {
    Map<String, Object> target = new LinkedHashMap<>();
    target.put("version", 2L);
    target.put("revision", 2L);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("aliases", Map.of("production", target));
    m.put("archived", List.of());
    m.put("deleted", List.of());
    return Json.write(m);
  }

  /** Writes the journal of that move, chained after the log's current last line. */
  private void journalTheMove() throws Exception {
    Map<String, Object> j = new LinkedHashMap<>();
    j.put("previous", AuditChain.after(Storage.lastLine(root.resolve("audit.log"))));
    j.put("kind", "state");
    j.put("model", "cancer");
    j.put("version", 0L);
    j.put("stage", null);
    j.put("state", productionOnTwo());
    Files.writeString(root.resolve("journal.json"), Json.write(j));
  }

  private void appendTheMovesEntry() throws Exception {
    AuditEntry e =
        new AuditEntry(
            Instant.now(),
            "alice",
            AuditAction.SET_ALIAS,
            "cancer",
            AuditDetails.aliasMoved("production", 1, 2, false, List.of()),
            "release");
    String line =
        Records.auditToJson(e, AuditChain.after(Storage.lastLine(root.resolve("audit.log"))));
    Files.writeString(
        root.resolve("audit.log"), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
  }

  @Test
  void aChangeWhoseEntryWasWrittenIsCompletedByTheNextOpen() throws Exception {
    journalTheMove();
    appendTheMovesEntry();

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      assertThat(registry.aliases("cancer")).isEqualTo(Map.of("production", 2L));
      assertThat(root.resolve("journal.json")).doesNotExist();
      assertThat(registry.auditLog())
          .extracting(AuditEntry::action)
          .containsExactly(
              AuditAction.REGISTER,
              AuditAction.REGISTER,
              AuditAction.SET_ALIAS,
              AuditAction.SET_ALIAS);
      // The registry goes on from there.
      registry.setAlias("cancer", "production", 1, ALICE);
      assertThat(registry.aliases("cancer")).isEqualTo(Map.of("production", 1L));
    }
  }

  @Test
  void aChangeWhoseEntryWasNeverWrittenIsDroppedByTheNextOpen() throws Exception {
    journalTheMove();

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      assertThat(registry.aliases("cancer")).isEqualTo(Map.of("production", 1L));
      assertThat(root.resolve("journal.json")).doesNotExist();
      assertThat(registry.auditLog()).hasSize(3);
    }
  }

  @Test
  void aDamagedJournalIsATypedErrorAndChangesNothing() throws Exception {
    Files.writeString(root.resolve("journal.json"), "{\"kind\":\"insert\",\"model\":\"../x\"}");
    assertThatThrownBy(() -> LocalModelRegistry.open(root))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("journal.json is damaged");
    assertThat(root.resolve("journal.json")).exists();
  }

  /**
   * A writer killed while writing its journal leaves only the journal's temporary file (the journal
   * is renamed into place whole): the next open removes it, and the change it was for never
   * happened.
   */
  @Test
  void aJournalLeftHalfWrittenIsATemporaryFileTheNextOpenRemoves() throws Exception {
    Path torn = root.resolve(".journal.json.tmp-" + java.util.UUID.randomUUID());
    Files.writeString(torn, "{\"previous\":\"");

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      assertThat(torn).doesNotExist();
      assertThat(root.resolve("journal.json")).doesNotExist();
      assertThat(registry.aliases("cancer")).isEqualTo(Map.of("production", 1L));
      registry.setAlias("cancer", "production", 2, ALICE);
      assertThat(registry.aliases("cancer")).isEqualTo(Map.of("production", 2L));
      assertThat(registry.auditLog()).hasSize(4);
    }
    try (var left = Files.list(root)) {
      assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("journal"));
    }
  }
}
