package dev.mlops.runtime.local;

import static dev.mlops.runtime.local.RegistryTestSupport.assertCompleteVersions;
import static dev.mlops.runtime.local.RegistryTestSupport.oneTo;
import static dev.mlops.runtime.local.RegistryTestSupport.registeredInAudit;
import static dev.mlops.runtime.local.RegistryTestSupport.snapshot;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.runtime.local.RegistryTestSupport.ChildJvm;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.Records;
import dev.mlops.testmodels.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A writer killed with SIGKILL at any point leaves the registry usable and every visible version
 * whole.
 */
class CrashRecoveryTest {

  private static final Logger LOG = LoggerFactory.getLogger(CrashRecoveryTest.class);
  private static final String MODEL = "crashy";
  private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(60);
  private static final int ROUNDS = 5;
  private static final int JUNK_FILES = 3;
  private static final int JUNK_KB = 1024;
  private static final AuditInfo TESTER = AuditInfo.by("tester", "crash test");

  @TempDir Path tmp;

  @Test
  void killedWriterLeavesOnlyCompleteGapFreeVersionsAndTheNextNumberFollows() throws Exception {
    Path root = tmp.resolve("registry");
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    long seed = System.nanoTime();
    Random random = new Random(seed);
    LOG.info("crash rounds use seed {}", seed);

    long firstOfRound = 1;
    TreeSet<Long> mustBeAudited = new TreeSet<>();
    int roundsWithStaging = 0;
    for (int round = 0; round < ROUNDS; round++) {
      List<Long> printed = new ArrayList<>();
      long delayMicros;
      try (ChildJvm child =
          ChildJvm.start(
              tmp,
              "crash-" + round,
              "loop",
              root.toString(),
              MODEL,
              tmp.resolve("work-" + round).toString(),
              Integer.toString(JUNK_FILES),
              Integer.toString(JUNK_KB))) {
        child.awaitLine("READY", CHILD_TIMEOUT);
        long[] at = new long[3];
        for (int i = 0; i < 3; i++) {
          printed.add(number(child.awaitLine("REGISTERED ", CHILD_TIMEOUT)));
          at[i] = System.nanoTime();
        }
        // Kill at a random phase of a registration: most of one is copying and fsyncing.
        long perRegistration = Math.max((at[2] - at[0]) / 2, TimeUnit.MILLISECONDS.toNanos(1));
        delayMicros =
            TimeUnit.NANOSECONDS.toMicros((long) (random.nextDouble() * 1.5 * perRegistration));
        TimeUnit.MICROSECONDS.sleep(delayMicros);
        child.kill();
        for (String line : child.drain(CHILD_TIMEOUT)) {
          if (line.startsWith("REGISTERED ")) {
            printed.add(number(line));
          }
        }
      }
      long lastPrinted = printed.get(printed.size() - 1);
      assertThat(printed)
          .as("numbers the child printed")
          .containsExactlyElementsOf(range(firstOfRound, lastPrinted));
      mustBeAudited.addAll(printed);

      List<String> leftover = stagingEntries(root);
      if (!leftover.isEmpty()) {
        roundsWithStaging++;
      }
      try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
        assertThat(stagingEntries(root)).as("staging after open (was %s)", leftover).isEmpty();

        long k = registry.versions(MODEL).size();
        // The child may have renamed one more version into place before it could print it.
        assertThat(k).isBetween(lastPrinted, lastPrinted + 1);
        List<ModelVersion> versions = assertCompleteVersions(registry, MODEL, k);
        assertThat(versions.stream().filter(v -> v.createdBy().equals("crasher")))
            .allSatisfy(v -> assertThat(v.files()).hasSize(1 + JUNK_FILES));

        // A kill between the rename and the audit append can lose an entry, never add or repeat
        // one.
        List<Long> audited = registeredInAudit(registry, MODEL);
        assertThat(audited).doesNotHaveDuplicates().isSubsetOf(oneTo(k)).containsAll(mustBeAudited);

        ModelVersion next =
            registry.register(
                Registration.builder(MODEL, ArtifactSource.file(file)).build(), TESTER);
        assertThat(next.version()).isEqualTo(k + 1);
        assertCompleteVersions(registry, MODEL, k + 1);
        mustBeAudited.add(next.version());
        firstOfRound = k + 2;
      }
      LOG.info(
          "round {}: killed {} us after the 3rd number, last printed {}, staging left {}",
          round,
          delayMicros,
          lastPrinted,
          leftover);
    }
    LOG.info("{} of {} rounds were killed while staging", roundsWithStaging, ROUNDS);
    // Each round adds at least the child's three printed versions and the test's own one.
    assertThat(firstOfRound - 1).isGreaterThanOrEqualTo(4L * ROUNDS);
  }

  @Test
  void killDuringCopyLeavesStagingThatOnlyTheNextOpenAfterTheDeathRemoves() throws Exception {
    Path root = tmp.resolve("registry");
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      registry.register(Registration.builder(MODEL, ArtifactSource.file(file)).build(), TESTER);
    }
    SortedMap<String, String> before = snapshot(root);

    int bytes = 256 * 1024;
    try (ChildJvm child =
        ChildJvm.start(tmp, "stall", "stall", root.toString(), MODEL, Integer.toString(bytes))) {
      child.awaitLine("STAGING", CHILD_TIMEOUT);
      List<String> staging = stagingEntries(root);
      assertThat(staging).singleElement().asString().startsWith("registrations/");
      Path partial =
          root.resolve("staging").resolve(staging.get(0)).resolve("files").resolve("model.onnx");
      assertThat(Files.size(partial)).isEqualTo(bytes);

      // The writer is alive: opening must leave its staging entry alone.
      try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
        assertThat(stagingEntries(root)).containsExactlyElementsOf(staging);
        assertThat(registry.versions(MODEL)).extracting(ModelVersion::version).containsExactly(1L);
      }

      child.kill();
      assertThat(stagingEntries(root)).containsExactlyElementsOf(staging);
    }

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      assertThat(stagingEntries(root)).isEmpty();
      assertThat(snapshot(root)).isEqualTo(before);
      assertThat(
              registry
                  .register(Registration.builder(MODEL, ArtifactSource.file(file)).build(), TESTER)
                  .version())
          .isEqualTo(2);
      assertCompleteVersions(registry, MODEL, 2);
    }
  }

  @Test
  void tornLastAuditLineIsIgnoredAndEarlierEntriesAreReturned() throws Exception {
    Path root = tmp.resolve("registry");
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    List<AuditEntry> whole;
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      registerTwoAndAlias(registry, file);
      whole = registry.auditLog();
      assertThat(whole)
          .extracting(AuditEntry::action)
          .containsExactly(AuditAction.REGISTER, AuditAction.REGISTER, AuditAction.SET_ALIAS);
    }
    appendTornLine(root);

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      assertThat(registry.auditLog()).isEqualTo(whole);
      assertCompleteVersions(registry, MODEL, 2);
    }
  }

  @Test
  void changesAfterATornAuditLineAreAuditedAndTheLogStaysReadable() throws Exception {
    Path root = tmp.resolve("registry");
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      registerTwoAndAlias(registry, file);
    }
    appendTornLine(root);

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      ModelVersion third =
          registry.register(Registration.builder(MODEL, ArtifactSource.file(file)).build(), TESTER);
      assertThat(third.version()).isEqualTo(3);
      registry.setAlias(MODEL, "prod", 3, TESTER);

      List<AuditEntry> log = registry.auditLog();
      assertThat(log)
          .extracting(AuditEntry::action)
          .containsExactly(
              AuditAction.REGISTER,
              AuditAction.REGISTER,
              AuditAction.SET_ALIAS,
              AuditAction.REGISTER,
              AuditAction.SET_ALIAS);
      assertThat(log.get(3).details()).containsEntry("version", "3");
      assertThat(log.get(4).details()).containsEntry("from", "1").containsEntry("to", "3");
      // Every line of the file is whole again: the fragment did not join the next entry.
      assertThat(RegistryTestSupport.parseAuditFile(root)).isEqualTo(log);
    }
  }

  private static void registerTwoAndAlias(GovernedRegistry registry, Path file) {
    for (int i = 0; i < 2; i++) {
      registry.register(Registration.builder(MODEL, ArtifactSource.file(file)).build(), TESTER);
    }
    registry.setAlias(MODEL, "prod", 1, TESTER);
  }

  /** What a crash in the middle of an append leaves: the first half of a line, no newline. */
  private static void appendTornLine(Path root) throws Exception {
    String line =
        Records.auditToJson(
            new AuditEntry(
                Instant.now(),
                "tester",
                AuditAction.SET_ALIAS,
                MODEL,
                Map.of("alias", "prod", "to", "2"),
                ""));
    Files.write(
        root.resolve("audit.log"),
        line.substring(0, line.length() / 2).getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.APPEND);
  }

  private static long number(String line) {
    return Long.parseLong(line.substring(line.indexOf(' ') + 1).trim());
  }

  private static List<Long> range(long from, long to) {
    List<Long> out = new ArrayList<>();
    for (long n = from; n <= to; n++) {
      out.add(n);
    }
    return out;
  }
}
