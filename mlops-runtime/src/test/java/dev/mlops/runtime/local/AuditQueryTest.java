package dev.mlops.runtime.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.AliasChange;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.api.ServingPeriod;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit log answers: who moved which alias from which version to which, when and why; which
 * version an alias named in a period; which loads and verifications failed.
 */
class AuditQueryTest {

  private static final Instant T0 = Instant.parse("2026-03-01T09:00:00Z");

  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    final AtomicReference<Instant> now = new AtomicReference<>(T0);

    void set(String hhmm) {
      now.set(Instant.parse("2026-03-01T" + hhmm + ":00Z"));
    }

    void advance(Duration d) {
      now.updateAndGet(t -> t.plus(d));
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }

  private static Instant at(String hhmm) {
    return Instant.parse("2026-03-01T" + hhmm + ":00Z");
  }

  @TempDir Path tmp;
  private final ManualClock clock = new ManualClock();
  private CountingEngine engine;
  private GovernedRegistry registry;
  private List<ModelVersion> versions;

  /** Three versions, and the alias 'prod' moved five times by four people. */
  @BeforeEach
  void history() throws java.io.IOException {
    engine = new CountingEngine();
    registry = LocalModelRegistry.builder(tmp.resolve("reg")).engine(engine).clock(clock).build();
    Path v1 = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp);
    Path v2 = TestModels.copy(TestModels.BREAST_CANCER_V2, tmp);
    versions =
        List.of(
            registry.register(
                Registration.builder("cancer", ArtifactSource.file(v1)).build(),
                AuditInfo.by("alice", "v1")),
            registry.register(
                Registration.builder("cancer", ArtifactSource.file(v2)).build(),
                AuditInfo.by("alice", "v2")),
            registry.register(
                Registration.builder("cancer", v3Source(v2)).build(), AuditInfo.by("alice", "v3")));
    clock.set("10:00");
    registry.setAlias("cancer", "prod", 1, AuditInfo.by("alice", "first release"));
    clock.set("11:00");
    registry.setAlias("cancer", "prod", 2, AuditInfo.by("bob", "better recall"));
    clock.set("12:00");
    registry.forceAlias("cancer", "prod", 3, AuditInfo.by("mallory", "no time to test"));
    clock.set("12:30");
    registry.setAlias("cancer", "canary", 3, AuditInfo.by("bob", "canary"));
    clock.set("13:00");
    registry.compareAndSetAlias("cancer", "prod", 3, 2, AuditInfo.by("bob", "rollback"));
    clock.set("14:00");
    registry.deleteAlias("cancer", "prod", AuditInfo.by("carol", "retire the endpoint"));
    clock.set("15:00");
    registry.setAlias("cancer", "prod", 3, AuditInfo.by("carol", "relaunch"));
    clock.set("16:00");
  }

  @AfterEach
  void close() {
    registry.close();
    engine.close();
  }

  @Test
  void aliasHistorySaysWhoMovedItFromWhichVersionToWhichWhenAndWhy() {
    assertThat(registry.aliasHistory("cancer", "prod"))
        .containsExactly(
            new AliasChange(at("10:00"), "alice", "cancer", "prod", 0, 1, "first release", false),
            new AliasChange(at("11:00"), "bob", "cancer", "prod", 1, 2, "better recall", false),
            new AliasChange(
                at("12:00"), "mallory", "cancer", "prod", 2, 3, "no time to test", true),
            new AliasChange(at("13:00"), "bob", "cancer", "prod", 3, 2, "rollback", false),
            new AliasChange(
                at("14:00"), "carol", "cancer", "prod", 2, 0, "retire the endpoint", false),
            new AliasChange(at("15:00"), "carol", "cancer", "prod", 0, 3, "relaunch", false));
    assertThat(registry.aliasHistory("cancer", "canary"))
        .extracting(AliasChange::toVersion)
        .containsExactly(3L);
    assertThat(registry.aliasHistory("cancer", "nope")).isEmpty();
  }

  @Test
  void servingHistoryGivesTheVersionTheAliasNamedThroughoutAPeriod() {
    assertThat(registry.servingHistory("cancer", "prod", at("10:30"), at("13:30")))
        .containsExactly(
            new ServingPeriod("cancer", "prod", 1, at("10:30"), at("11:00")),
            new ServingPeriod("cancer", "prod", 2, at("11:00"), at("12:00")),
            new ServingPeriod("cancer", "prod", 3, at("12:00"), at("13:00")),
            new ServingPeriod("cancer", "prod", 2, at("13:00"), at("13:30")));
    // While the alias was deleted nothing served through it.
    assertThat(registry.servingHistory("cancer", "prod", at("13:30"), at("17:00")))
        .containsExactly(
            new ServingPeriod("cancer", "prod", 2, at("13:30"), at("14:00")),
            new ServingPeriod("cancer", "prod", 3, at("15:00"), at("17:00")));
    assertThat(registry.servingHistory("cancer", "prod", at("09:00"), at("10:00"))).isEmpty();
    assertThat(registry.servingHistory("cancer", "prod", at("11:15"), at("11:45")))
        .containsExactly(new ServingPeriod("cancer", "prod", 2, at("11:15"), at("11:45")));
    assertThatThrownBy(() -> registry.servingHistory("cancer", "prod", at("12:00"), at("11:00")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void auditQueriesFilterByModelAliasActionActorVersionAndTime() {
    assertThat(registry.audit(AuditQuery.all())).isEqualTo(registry.auditLog()).hasSize(10);
    assertThat(registry.audit(AuditQuery.builder().actor("bob").build()))
        .extracting(AuditEntry::reason)
        .containsExactly("better recall", "canary", "rollback");
    assertThat(registry.audit(AuditQuery.builder().alias("canary").build())).hasSize(1);
    assertThat(registry.audit(AuditQuery.builder().actions(AuditAction.REGISTER).build()))
        .extracting(e -> e.details().get("version"))
        .containsExactly("1", "2", "3");
    assertThat(registry.audit(AuditQuery.builder().version(3).build()))
        .extracting(AuditEntry::reason)
        .containsExactly("v3", "no time to test", "canary", "rollback", "relaunch");
    assertThat(registry.audit(AuditQuery.builder().from(at("12:00")).to(at("14:00")).build()))
        .extracting(AuditEntry::reason)
        .containsExactly("no time to test", "canary", "rollback");
    assertThat(registry.audit(AuditQuery.builder().model("other").build())).isEmpty();
    assertThatThrownBy(() -> AuditQuery.builder().actor("a").actor("b"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("actor was already set");
    assertThatThrownBy(() -> AuditQuery.builder().from(at("12:00")).to(at("11:00")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * v3: the same model file as v2 with a notes file beside it, so that it has files of its own
   * (identical files are stored once, and tampering with them would hit v2 too).
   */
  private ArtifactSource v3Source(Path v2) throws java.io.IOException {
    Path dir = Files.createDirectories(tmp.resolve("v3"));
    Files.copy(v2, dir.resolve(v2.getFileName()));
    Files.writeString(dir.resolve("notes.txt"), "retrained on the same data");
    return ArtifactSource.directory(dir, v2.getFileName().toString());
  }

  @Test
  void loadAndVerificationFailuresAreRecordedOnceEachAndQueryable() throws Exception {
    ModelVersion v2 = versions.get(1);
    ModelVersion v3 = versions.get(2);
    // 1. A verification failure: a stored file changed.
    Path file = dev.mlops.runtime.testing.Stored.modelFile(registry, v3);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x10;
    Files.write(file, bytes);
    clock.set("16:10");
    IntegrityException integrity =
        (IntegrityException) catchThrowable(() -> registry.verifiedArtifact(v3));
    // 2. The runtime reports the same failure: already recorded, not added again.
    registry.recordLoadFailure(
        v3, new ModelLoadException("cannot load models:/cancer/3", integrity));
    // 3. The registry's own load check fails in the engine.
    clock.set("16:20");
    engine.failOpens.set(true);
    assertThatThrownBy(
            () -> registry.setAlias("cancer", "canary", 2, AuditInfo.by("bob", "try v2")))
        .isInstanceOf(ModelLoadException.class);
    engine.failOpens.set(false);
    // 4. A runtime reports a load failure three times in a row, then again two minutes later.
    clock.set("16:30");
    for (int i = 0; i < 3; i++) {
      registry.recordLoadFailure(
          v2, new ModelLoadException("warm-up of models:/cancer/2 failed: out of memory"));
    }
    clock.advance(Duration.ofMinutes(2));
    registry.recordLoadFailure(
        v2, new ModelLoadException("warm-up of models:/cancer/2 failed: out of memory"));

    List<AuditEntry> failures = registry.failures(at("16:00"), at("17:00"));
    assertThat(failures)
        .extracting(AuditEntry::action)
        .containsExactly(
            AuditAction.VERIFICATION_FAILED,
            AuditAction.LOAD_FAILED,
            AuditAction.LOAD_FAILED,
            AuditAction.LOAD_FAILED);
    assertThat(failures)
        .extracting(AuditEntry::time)
        .containsExactly(at("16:10"), at("16:20"), at("16:30"), at("16:32"));
    assertThat(failures.get(0).details())
        .containsEntry("version", "3")
        .hasEntrySatisfying(
            "error",
            e ->
                assertThat(e)
                    .startsWith(
                        "IntegrityException: file breast-cancer-v2.onnx of "
                            + "models:/cancer/3 has changed since registration: expected sha256 "
                            + v3.files().get(0).sha256()));
    assertThat(failures.get(1).details())
        .containsEntry("version", "2")
        .hasEntrySatisfying("error", e -> assertThat(e).contains("test failure"));
    assertThat(failures).extracting(AuditEntry::actor).containsOnly("mlops");
    assertThat(registry.failures(at("16:15"), at("16:25"))).hasSize(1);
    assertThat(registry.aliases("cancer")).containsEntry("canary", 3L);

    // The answers are on disk: another instance (another process) reads the same.
    try (GovernedRegistry reopened =
        LocalModelRegistry.builder(LocalModelRegistry.root(registry).orElseThrow())
            .engine(engine)
            .build()) {
      assertThat(reopened.failures(at("16:00"), at("17:00"))).isEqualTo(failures);
      assertThat(reopened.aliasHistory("cancer", "prod"))
          .isEqualTo(registry.aliasHistory("cancer", "prod"));
    }
  }

  private static Throwable catchThrowable(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(call);
    assertThat(t).isNotNull();
    return t;
  }
}
