package dev.mlops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.runtime.registry.Json;
import dev.mlops.samples.fleet.FleetService;
import dev.mlops.test.ChildJvm;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long from {@code mlops promote} to every instance serving the new version: three service
 * processes of {@code samples/fleet} follow {@code models:/cancer@production} on one real
 * PostgreSQL while the real jar moves the alias, forward and back. It prints the figures; it
 * asserts only that every instance switched and that no call failed.
 */
class FleetPromoteIT {

  private static final int INSTANCES = 3;
  private static final Duration WAIT = Duration.ofSeconds(120);

  @TempDir Path work;

  @org.junit.jupiter.api.BeforeEach
  void onThePackagedJar() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        System.getProperty("mlops.jar") != null,
        "runs in failsafe's integration-test phase, on the jar the package phase built");
  }

  @Test
  void promotionReachesEveryInstanceWithoutAFailedCall() throws Exception {
    String uri = TestPostgres.newRegistry("cli_fleet");
    CliProcess cli = new CliProcess(uri, work);
    for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
      Path model = TestModels.copy(file, work.resolve(file));
      assertThat(cli.run("register", "cancer", model.toString()).exit()).isZero();
    }
    CliProcess.Result first = cli.run("promote", "cancer", "1");
    assertThat(first.exit()).as(first.toString()).isZero();
    System.out.printf(
        "mlops promote (v1) with no instance running: the process ran %d ms%n", first.millis());

    List<ChildJvm> fleet = new ArrayList<>();
    try {
      for (int i = 1; i <= INSTANCES; i++) {
        fleet.add(
            ChildJvm.start(
                work,
                "instance-" + i,
                FleetService.class,
                List.of("-Xmx256m"),
                List.of("instance-" + i, uri + "&cache=" + work.resolve("cache-" + i))));
      }
      for (int i = 0; i < INSTANCES; i++) {
        assertThat(fleet.get(i).awaitLine("instance-" + (i + 1) + " ready", WAIT))
            .isEqualTo("instance-" + (i + 1) + " ready serving v1");
      }
      move(cli, fleet, 1, 2, "promote", "cancer", "2", "-m", "fleet measurement");
      move(cli, fleet, 2, 1, "rollback", "cancer", "-m", "fleet measurement");
      for (int i = 0; i < INSTANCES; i++) {
        fleet.get(i).send("stop");
        String done = fleet.get(i).awaitLine("instance-" + (i + 1) + " done", WAIT);
        System.out.println(done);
        assertThat(done).endsWith(" failed=0");
      }
    } finally {
      for (ChildJvm c : fleet) {
        c.close();
      }
    }
  }

  private static void move(CliProcess cli, List<ChildJvm> fleet, long from, long to, String... args)
      throws Exception {
    long started = micros(Instant.now());
    CliProcess.Result r = cli.run(args);
    assertThat(r.exit()).as(r.toString()).isZero();
    CliProcess.Result audit = cli.run("audit", "--action", "SET_ALIAS", "--json");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> moves = (List<Map<String, Object>>) Json.parse(audit.out().strip());
    Map<String, Object> last = moves.get(moves.size() - 1);
    assertThat(last.get("details").toString()).contains("to=" + to);
    long committed = micros(Instant.parse((String) last.get("time")));
    StringBuilder line =
        new StringBuilder(
            String.format(
                "mlops %s (v%d -> v%d): the process ran %d ms (JVM start, load check, move);",
                args[0], from, to, r.millis()));
    double slowest = 0;
    for (int i = 0; i < fleet.size(); i++) {
      String switched =
          fleet.get(i).awaitLine("instance-" + (i + 1) + " switched v" + from + " -> v" + to, WAIT);
      long at = Long.parseLong(switched.substring(switched.lastIndexOf(' ') + 1));
      double fromStart = (at - started) / 1000.0;
      double fromCommit = (at - committed) / 1000.0;
      slowest = Math.max(slowest, fromStart);
      line.append(
          String.format(
              " instance-%d serving v%d %.1f ms after the command started (%.1f ms after the move"
                  + " committed);",
              i + 1, to, fromStart, fromCommit));
    }
    line.append(String.format(" every instance within %.1f ms of the command's start", slowest));
    System.out.println(line);
  }

  private static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
  }
}
