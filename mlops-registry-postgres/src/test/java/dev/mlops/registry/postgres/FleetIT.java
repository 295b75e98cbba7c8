package dev.mlops.registry.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import dev.mlops.test.ChildJvm;
import dev.mlops.testmodels.TestModels;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fleet: several JVMs on one PostgreSQL registry (opened by its {@code postgresql:} URI, with
 * artifacts in the same database), each a {@link FleetProcess}. Compare-and-set races between JVMs,
 * registrations from several JVMs, and instances under load following 50 alias moves.
 */
class FleetIT {

  private static final Logger LOG = LoggerFactory.getLogger(FleetIT.class);
  private static final Duration START = Duration.ofSeconds(120);
  private static final Duration STEP = Duration.ofSeconds(60);
  private static final AuditInfo OPS = AuditInfo.by("ops", "fleet test");
  private static final String MODEL = "cancer";
  private static final String ALIAS = "production";

  @TempDir Path tmp;

  private final List<ChildJvm> children = new ArrayList<>();
  private GovernedRegistry registry;

  @AfterEach
  void closeEverything() {
    for (ChildJvm c : children) {
      c.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  private URI uri(String db, String cache) {
    return URI.create(
        TestDatabases.server().getJdbcUrl("postgres", db).replace("jdbc:", "")
            + "&cache="
            + tmp.resolve(cache));
  }

  private GovernedRegistry open(URI uri) {
    return RegistryProvider.openUri(uri, OnnxRuntimeEngine.builder().build(), Clock.systemUTC());
  }

  private ChildJvm start(String name, String... args) throws Exception {
    ChildJvm c = ChildJvm.start(tmp, name, FleetProcess.class, List.of("-Xmx384m"), List.of(args));
    children.add(c);
    return c;
  }

  /** Registers breast-cancer v1, v2, v1 again (three compatible versions) and points the alias. */
  private void registerThree() {
    for (String file :
        List.of(
            TestModels.BREAST_CANCER_V1,
            TestModels.BREAST_CANCER_V2,
            TestModels.BREAST_CANCER_V1)) {
      registry.register(
          Registration.builder(
                  MODEL, ArtifactSource.file(TestModels.copy(file, tmp.resolve("src-" + file))))
              .build(),
          OPS);
    }
    registry.setAlias(MODEL, ALIAS, 1, OPS);
  }

  @Test
  void sixteenWritersInFourJvmsHaveExactlyOneWinnerPerRoundAndEachMoveIsAuditedOnce()
      throws Exception {
    String db = db("cas");
    registry = open(uri(db, "cache-parent"));
    registerThree();
    List<ChildJvm> writers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      writers.add(
          start("writer-" + i, "writer", uri(db, "cache-w" + i).toString(), MODEL, ALIAS, "4"));
    }
    for (ChildJvm w : writers) {
      w.awaitLine("ready", START);
    }
    int rounds = 20;
    long expected = 1;
    for (int r = 1; r <= rounds; r++) {
      // Everyone expects the current target; each thread moves it to one of the two others.
      long from = expected;
      List<Long> others = LongStream.rangeClosed(1, 3).filter(v -> v != from).boxed().toList();
      for (ChildJvm w : writers) {
        w.send("cas " + r + " " + expected + " " + others.get(0) + " " + others.get(1));
      }
      List<String> won = new ArrayList<>();
      int results = 0;
      for (ChildJvm w : writers) {
        for (String line; !(line = w.nextLine(STEP)).startsWith("done"); ) {
          assertThat(line).doesNotStartWith("error");
          results++;
          if (line.startsWith("won")) {
            won.add(line);
          }
        }
      }
      assertThat(results).as("results in round " + r).isEqualTo(16);
      assertThat(won).as("winners in round " + r).hasSize(1);
      expected = Long.parseLong(won.get(0).split(" ")[2]);
      assertThat(registry.aliases(MODEL).get(ALIAS)).isEqualTo(expected);
    }
    List<AuditEntry> moves =
        registry.audit(AuditQuery.builder().model(MODEL).actions(AuditAction.SET_ALIAS).build());
    assertThat(moves).as("the first move and one entry per round").hasSize(1 + rounds);
    assertThat(moves.subList(1, moves.size()))
        .allSatisfy(e -> assertThat(e.actor()).isEqualTo("fleet-writer"));
  }

  @Test
  void registrationsFromFourJvmsGetUniqueGapFreeNumbers() throws Exception {
    String db = db("numbers");
    registry = open(uri(db, "cache-parent"));
    Path file = TestModels.copy(TestModels.TINY, tmp.resolve("tiny.onnx"));
    List<ChildJvm> writers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      writers.add(
          start("writer-" + i, "writer", uri(db, "cache-w" + i).toString(), MODEL, ALIAS, "2"));
    }
    for (ChildJvm w : writers) {
      w.awaitLine("ready", START);
    }
    for (ChildJvm w : writers) {
      w.send("register 5 " + file);
    }
    List<Long> numbers = new ArrayList<>();
    for (ChildJvm w : writers) {
      for (String line; !(line = w.nextLine(STEP)).startsWith("done"); ) {
        assertThat(line).doesNotStartWith("error");
        numbers.add(Long.parseLong(line.split(" ")[1]));
      }
    }
    assertThat(numbers).hasSize(40).doesNotHaveDuplicates();
    assertThat(new TreeSet<>(numbers))
        .containsExactlyElementsOf(LongStream.rangeClosed(1, 40).boxed().toList());
    assertThat(registry.versions(MODEL)).extracting(ModelVersion::version).hasSize(40);
    List<AuditEntry> registered =
        registry.audit(AuditQuery.builder().model(MODEL).actions(AuditAction.REGISTER).build());
    assertThat(registered)
        .extracting(e -> Long.parseLong(e.details().get(AuditDetails.VERSION)))
        .containsExactlyInAnyOrderElementsOf(numbers);
  }

  @Test
  void fourInstancesUnderLoadFollowFiftyMovesWithinTwoSecondsAndNoFailedCall() throws Exception {
    String db = db("follow");
    registry = open(uri(db, "cache-parent"));
    registerThree();
    List<ChildJvm> instances = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      instances.add(
          start(
              "instance-" + i, "instance", uri(db, "cache-i" + i).toString(), MODEL, ALIAS, "16"));
    }
    for (ChildJvm c : instances) {
      assertThat(c.awaitLine("ready", START)).isEqualTo("ready 1");
    }
    List<Long> convergence = new ArrayList<>();
    long current = 1;
    for (int move = 1; move <= 50; move++) {
      long next = current % 3 + 1;
      registry.compareAndSetAlias(MODEL, ALIAS, current, next, OPS);
      long committed = FleetProcess.micros(Instant.now());
      for (ChildJvm c : instances) {
        String line = c.awaitLine("swapped " + next + " ", STEP);
        long swapped = Long.parseLong(line.split(" ")[2]);
        convergence.add(Math.max(0, swapped - committed));
      }
      current = next;
    }
    for (ChildJvm c : instances) {
      c.send("stop");
    }
    List<String> results = new ArrayList<>();
    for (ChildJvm c : instances) {
      results.add(c.awaitLine("result", STEP));
    }
    List<Long> sorted = convergence.stream().sorted().collect(Collectors.toList());
    LOG.info(
        "convergence over {} instance-moves: p50 {} ms, p99 {} ms, max {} ms; {}",
        sorted.size(),
        sorted.get(sorted.size() / 2) / 1000.0,
        sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1) / 1000.0,
        sorted.get(sorted.size() - 1) / 1000.0,
        results);
    for (String r : results) {
      Map<String, String> f = fields(r);
      assertThat(Long.parseLong(f.get("calls"))).as(r).isGreaterThan(1000);
      assertThat(f.get("failed")).as(r).isEqualTo("0");
      assertThat(f.get("violations")).as(r).isEqualTo("0");
    }
    assertThat(sorted.get(sorted.size() - 1))
        .as("the slowest instance's switch after a move, in microseconds")
        .isLessThanOrEqualTo(2_000_000L);
  }

  @Test
  void writersKilledMidRegistrationLeaveNoHalfVersionAndTheirLeftoversAreCollected()
      throws Exception {
    String db = db("crash");
    registry = open(uri(db, "cache-parent"));
    Path model = TestModels.copy(TestModels.TINY, tmp.resolve("tiny.onnx"));
    java.util.Random random = new java.util.Random();
    List<Path> stagings = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      String name = "killed-" + round;
      ChildJvm w = start(name, "writer", uri(db, "cache-" + name).toString(), "crash", ALIAS, "1");
      w.awaitLine("ready", START);
      w.send("register-loop " + model + " " + tmp.resolve(name + "-work"));
      w.awaitLine("registered", STEP);
      // Somewhere in a later registration: staging, hashing, storing the files or the version.
      java.util.concurrent.locks.LockSupport.parkNanos(
          TimeUnit.MILLISECONDS.toNanos(100 + random.nextInt(900)));
      w.kill();
      // Its private staging: mlops-<user> in its temporary directory (ChildJvm gives each its own).
      stagings.add(tmp.resolve(name + "-tmp").resolve("mlops-" + System.getProperty("user.name")));
    }

    // No half version: every version listed is complete, verifies, and numbers have no gap.
    List<ModelVersion> versions = registry.versions("crash");
    assertThat(versions)
        .extracting(ModelVersion::version)
        .containsExactlyElementsOf(LongStream.rangeClosed(1, versions.size()).boxed().toList());
    for (ModelVersion v : versions) {
      try (var verified = registry.verifiedArtifact(v)) {
        assertThat(verified.location().modelFile()).exists();
      }
    }
    // Leftovers: artifacts stored by a registration that never recorded its version, collected.
    java.util.Set<String> referenced =
        versions.stream().map(ModelVersion::digest).collect(Collectors.toSet());
    Map<String, Instant> stored = registry.artifacts().stored();
    assertThat(stored.keySet()).containsAll(referenced);
    List<String> orphans =
        stored.keySet().stream().filter(d -> !referenced.contains(d)).sorted().toList();
    assertThat(registry.collectGarbage(Duration.ZERO)).containsExactlyElementsOf(orphans);
    assertThat(registry.artifacts().stored().keySet()).isEqualTo(referenced);
    // and each killed process's staging entries, removed when a registry opens on that directory.
    int leftInStaging = 0;
    for (Path staging : stagings) {
      Path registrations = staging.resolve("registrations");
      if (java.nio.file.Files.isDirectory(registrations)) {
        try (var left = java.nio.file.Files.list(registrations)) {
          leftInStaging += (int) left.count();
        }
      }
      GovernedRegistry.builder(
              () ->
                  PostgresModelStore.builder(TestDatabases.dataSource(jdbc(db)))
                      .listen(false)
                      .build(),
              s -> dev.mlops.test.InMemoryArtifactStore.create(tmp.resolve("unused")),
              "staging cleanup")
          .staging(staging)
          .build()
          .close();
      try (var left = java.nio.file.Files.list(registrations)) {
        assertThat(left.toList()).as("entries left in " + registrations).isEmpty();
      }
    }
    LOG.info(
        "3 writers killed mid-registration: {} complete versions, {} orphaned artifacts collected,"
            + " {} staging entries of the killed processes removed",
        versions.size(),
        orphans.size(),
        leftInStaging);
  }

  private static String jdbc(String db) {
    return TestDatabases.server().getJdbcUrl("postgres", db);
  }

  private static Map<String, String> fields(String line) {
    Map<String, String> out = new HashMap<>();
    for (String part : line.split(" ")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        out.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    return out;
  }

  /** A fresh database; returns its name. */
  private static String db(String prefix) {
    String url = TestDatabases.newDatabase(prefix);
    return url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
  }
}
