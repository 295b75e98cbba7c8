package dev.mlops.runtime.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.Registration;
import dev.mlops.api.spi.AliasTarget;
import dev.mlops.api.spi.StoredRollout;
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
 * Rollout records in the directory store's {@code state.json}: a directory written before there
 * were rollouts opens with none and keeps its state, and a rollout write interrupted between its
 * journal and its state is completed or dropped like any other change. The files here are written
 * by hand as the store writes them.
 */
class DirectoryRolloutRecordsTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "release");
  private static final String RECORD = "{\"id\":\"r-1\",\"weight\":500,\"note\":\"é \\\" \\n\"}";

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

  private Path stateFile() {
    return root.resolve("models").resolve("cancer").resolve("state.json");
  }

  /** The state file with production on version 1 at revision 1, and the rollouts given. */
  private static String state(Map<String, Object> rollouts) {
    Map<String, Object> target = new LinkedHashMap<>();
    target.put("version", 1L);
    target.put("revision", 1L);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("aliases", Map.of("production", target));
    m.put("archived", List.of());
    m.put("deleted", List.of());
    if (rollouts != null) {
      m.put("rollouts", rollouts);
    }
    return Json.write(m);
  }

  private static Map<String, Object> productionRollout() {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("record", RECORD);
    r.put("revision", 1L);
    return Map.of("production", r);
  }

  private static AuditEntry started() {
    return new AuditEntry(
        Instant.parse("2026-03-01T12:00:00.123456789Z"),
        "alice",
        AuditAction.START_ROLLOUT,
        "cancer",
        Map.of("alias", "production", "rollout", "r-1", "change", "start"),
        "release");
  }

  private void journalTheRolloutWrite() throws Exception {
    Map<String, Object> j = new LinkedHashMap<>();
    j.put("previous", AuditChain.after(Storage.lastLine(root.resolve("audit.log"))));
    j.put("kind", "state");
    j.put("model", "cancer");
    j.put("version", 0L);
    j.put("stage", null);
    j.put("state", state(productionRollout()));
    Files.writeString(root.resolve("journal.json"), Json.write(j));
  }

  private void appendTheWritesEntry() throws Exception {
    String line =
        Records.auditToJson(
            started(), AuditChain.after(Storage.lastLine(root.resolve("audit.log"))));
    Files.writeString(
        root.resolve("audit.log"), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
  }

  @Test
  void aDirectoryWrittenBeforeRolloutsOpensWithNoneAndKeepsItsAliases() throws Exception {
    Files.writeString(stateFile(), state(null));

    try (DirectoryModelStore store = new DirectoryModelStore(root)) {
      assertThat(store.rollouts("cancer")).isEmpty();
      assertThat(store.aliases("cancer")).containsExactly(Map.entry("production", aliasOn1()));
      assertThat(store.compareAndSetRollout("cancer", "production", 0, RECORD, started()))
          .hasValue(1);
    }
    assertThat(Json.parseObject(Files.readString(stateFile())))
        .as("the state file after the first rollout write")
        .containsEntry("rollouts", productionRolloutAsRead());
    try (DirectoryModelStore store = new DirectoryModelStore(root)) {
      assertThat(store.rollouts("cancer"))
          .containsExactly(Map.entry("production", new StoredRollout(RECORD, 1)));
      assertThat(store.aliases("cancer")).containsExactly(Map.entry("production", aliasOn1()));
      assertThat(store.versions("cancer")).hasSize(2);
    }
  }

  @Test
  void aModelWithoutRolloutsKeepsItsStateFileWithoutTheRolloutsKey() throws Exception {
    assertThat(Json.parseObject(Files.readString(stateFile())))
        .as("the state file of a model that never had a rollout")
        .containsOnlyKeys("aliases", "archived", "deleted");
  }

  @Test
  void aRolloutWriteWhoseEntryWasWrittenIsCompletedByTheNextOpen() throws Exception {
    journalTheRolloutWrite();
    appendTheWritesEntry();

    try (DirectoryModelStore store = new DirectoryModelStore(root)) {
      assertThat(root.resolve("journal.json")).doesNotExist();
      assertThat(store.rollouts("cancer"))
          .containsExactly(Map.entry("production", new StoredRollout(RECORD, 1)));
      assertThat(store.audit(AuditQuery.builder().actions(AuditAction.START_ROLLOUT).build()))
          .containsExactly(started());
      assertThat(store.compareAndSetRollout("cancer", "production", 0, "again", started()))
          .as("a second first write")
          .isEmpty();
      assertThat(store.compareAndSetRollout("cancer", "production", 1, "next", started()))
          .hasValue(2);
    }
  }

  @Test
  void aRolloutWriteWhoseEntryWasNeverWrittenIsDroppedByTheNextOpen() throws Exception {
    journalTheRolloutWrite();

    try (DirectoryModelStore store = new DirectoryModelStore(root)) {
      assertThat(root.resolve("journal.json")).doesNotExist();
      assertThat(store.rollouts("cancer")).isEmpty();
      assertThat(store.audit(AuditQuery.all())).hasSize(3);
      assertThat(store.aliases("cancer")).containsExactly(Map.entry("production", aliasOn1()));
    }
  }

  private static AliasTarget aliasOn1() {
    return new AliasTarget(1, 1);
  }

  private static Map<String, Object> productionRolloutAsRead() {
    return Json.parseObject(Json.write(productionRollout()));
  }
}
