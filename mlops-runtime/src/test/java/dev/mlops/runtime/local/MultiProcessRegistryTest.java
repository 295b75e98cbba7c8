package dev.mlops.runtime.local;

import static dev.mlops.runtime.local.RegistryTestSupport.assertCompleteVersions;
import static dev.mlops.runtime.local.RegistryTestSupport.assertStateFilesParse;
import static dev.mlops.runtime.local.RegistryTestSupport.audit;
import static dev.mlops.runtime.local.RegistryTestSupport.oneTo;
import static dev.mlops.runtime.local.RegistryTestSupport.parseAuditFile;
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
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Two JVMs writing to one registry directory at the same time serialise through the file lock. */
class MultiProcessRegistryTest {

  private static final Logger LOG = LoggerFactory.getLogger(MultiProcessRegistryTest.class);
  private static final String MODEL = "shared";
  private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(60);
  private static final int PER_PROCESS = 8;
  private static final Pattern CAS = Pattern.compile("CAS ok=(\\d+) conflicts=(\\d+)");

  @TempDir Path tmp;

  @Test
  void twoProcessesRegisteringAtOnceGetDistinctGapFreeNumbers() throws Exception {
    // Not created beforehand: both children also race to create the layout.
    Path root = tmp.resolve("registry");
    Map<Long, String> workerByNumber = new TreeMap<>();
    try (ChildJvm a = registerWorker(root, "A");
        ChildJvm b = registerWorker(root, "B")) {
      a.awaitLine("READY", CHILD_TIMEOUT);
      b.awaitLine("READY", CHILD_TIMEOUT);
      a.send("GO");
      b.send("GO");
      for (ChildJvm child : List.of(a, b)) {
        String worker = child == a ? "worker-A" : "worker-B";
        List<Long> numbers = new ArrayList<>();
        for (int i = 0; i < PER_PROCESS; i++) {
          numbers.add(number(child.awaitLine("REGISTERED ", CHILD_TIMEOUT)));
        }
        assertThat(numbers)
            .as("numbers %s got, in its order", worker)
            .isSorted()
            .doesNotHaveDuplicates();
        for (long n : numbers) {
          assertThat(workerByNumber.put(n, worker)).as("number %d given twice", n).isNull();
        }
        child.awaitLine("DONE", CHILD_TIMEOUT);
        assertThat(child.awaitExit(CHILD_TIMEOUT))
            .as("exit code of %s%s", worker, child.diagnostics())
            .isZero();
      }
    }
    assertThat(workerByNumber.keySet()).containsExactlyElementsOf(oneTo(2 * PER_PROCESS));
    assertThat(stagingEntries(root)).as("staging left by the writers").isEmpty();

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      List<ModelVersion> versions = assertCompleteVersions(registry, MODEL, 2 * PER_PROCESS);
      for (ModelVersion v : versions) {
        assertThat(v.createdBy())
            .as("registrant of %s", v.ref())
            .isEqualTo(workerByNumber.get(v.version()));
      }
      assertThat(assertStateFilesParse(root)).isZero();
      assertThat(stagingEntries(root)).isEmpty();

      List<AuditEntry> lines = parseAuditFile(root);
      assertThat(lines).hasSize(2 * PER_PROCESS).allMatch(e -> e.action() == AuditAction.REGISTER);
      assertThat(lines)
          .extracting(e -> Long.parseLong(e.details().get("version")))
          .containsExactlyElementsOf(oneTo(2 * PER_PROCESS));
      assertThat(lines)
          .extracting(AuditEntry::actor)
          .containsExactlyElementsOf(new ArrayList<>(workerByNumber.values()));
      assertThat(registry.auditLog()).isEqualTo(lines);
    }
    LOG.info("registration order across processes: {}", workerByNumber.values());
  }

  @Test
  void compareAndSetAliasAcrossProcessesLosesNoUpdate() throws Exception {
    Path root = tmp.resolve("registry");
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    AuditInfo tester = AuditInfo.by("tester", "setup");
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      for (int i = 0; i < 3; i++) {
        registry.register(Registration.builder(MODEL, ArtifactSource.file(file)).build(), tester);
      }
      registry.setAlias(MODEL, "prod", 1, tester);
    }

    int attempts = 40;
    Map<String, Integer> okByWorker = new TreeMap<>();
    int conflicts = 0;
    try (ChildJvm a = casWorker(root, "A", attempts);
        ChildJvm b = casWorker(root, "B", attempts)) {
      a.awaitLine("READY", CHILD_TIMEOUT);
      b.awaitLine("READY", CHILD_TIMEOUT);
      a.send("GO");
      b.send("GO");
      for (ChildJvm child : List.of(a, b)) {
        Matcher m = CAS.matcher(child.awaitLine("CAS ", CHILD_TIMEOUT));
        assertThat(m.matches()).isTrue();
        int ok = Integer.parseInt(m.group(1));
        int failed = Integer.parseInt(m.group(2));
        assertThat(ok + failed).isEqualTo(attempts);
        okByWorker.put(child == a ? "worker-A" : "worker-B", ok);
        conflicts += failed;
        child.awaitLine("DONE", CHILD_TIMEOUT);
        assertThat(child.awaitExit(CHILD_TIMEOUT)).as("exit code%s", child.diagnostics()).isZero();
      }
    }
    LOG.info("successful compare-and-sets by worker {}, conflicts {}", okByWorker, conflicts);

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      List<AuditEntry> moves = audit(registry, MODEL, AuditAction.SET_ALIAS);
      assertThat(moves).hasSize(1 + okByWorker.values().stream().mapToInt(Integer::intValue).sum());
      Map<String, Integer> auditedByWorker =
          moves.stream()
              .filter(e -> !e.actor().equals("tester"))
              .collect(
                  Collectors.groupingBy(
                      AuditEntry::actor, TreeMap::new, Collectors.summingInt(e -> 1)));
      okByWorker.values().removeIf(ok -> ok == 0);
      assertThat(auditedByWorker).isEqualTo(okByWorker);

      // A lost update would show as two moves from the same version; a move that ignored a stale
      // expectation as a move whose recorded expectation is not what it replaced.
      String previous = "";
      for (AuditEntry e : moves) {
        assertThat(e.details()).containsEntry("alias", "prod").containsEntry("from", previous);
        previous = e.details().get("to");
        if (!e.actor().equals("tester")) {
          assertThat(e.reason())
              .isEqualTo(
                  RegistryWorker.casReason(
                      Long.parseLong(e.details().get("from")), Long.parseLong(previous)));
        }
      }
      assertThat(registry.aliases(MODEL))
          .containsExactly(Map.entry("prod", Long.parseLong(previous)));
      assertThat(assertStateFilesParse(root)).isOne();
      assertThat(parseAuditFile(root)).isEqualTo(registry.auditLog());
      assertThat(stagingEntries(root)).isEmpty();
    }
  }

  private ChildJvm registerWorker(Path root, String name) throws Exception {
    return ChildJvm.start(
        tmp,
        "register-" + name,
        "register",
        root.toString(),
        MODEL,
        Integer.toString(PER_PROCESS),
        "worker-" + name,
        tmp.resolve("work-" + name).toString());
  }

  private ChildJvm casWorker(Path root, String name, int attempts) throws Exception {
    return ChildJvm.start(
        tmp,
        "cas-" + name,
        "cas",
        root.toString(),
        MODEL,
        "prod",
        Integer.toString(attempts),
        "worker-" + name,
        "3");
  }

  private static long number(String line) {
    return Long.parseLong(line.substring(line.indexOf(' ') + 1).trim());
  }
}
