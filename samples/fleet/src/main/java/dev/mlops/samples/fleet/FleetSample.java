package dev.mlops.samples.fleet;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Registration;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import dev.mlops.testmodels.TestModels;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A fleet on one machine: starts PostgreSQL (embedded, no installation), registers two versions of
 * a real classifier, starts three service processes ({@link FleetService}) that follow {@code
 * models:/cancer@production}, moves the alias twice and prints when each instance switched.
 */
public final class FleetSample {

  private static final AuditInfo OPS = AuditInfo.by("ops", "fleet sample");
  private static final int INSTANCES = 3;

  private FleetSample() {}

  /**
   * What the run saw.
   *
   * @param switchMillis per move, each instance's switch after the move committed, in ms
   * @param calls calls served per instance
   * @param failed failed calls per instance
   */
  public record Summary(
      List<Map<String, Double>> switchMillis, Map<String, Long> calls, Map<String, Long> failed) {}

  /** Runs the sample and prints what happens. */
  public static void main(String[] args) throws Exception {
    run(System.out);
    System.exit(0);
  }

  /** Runs the sample, printing to {@code out}. */
  public static Summary run(PrintStream out) throws Exception {
    Path work = Files.createTempDirectory("mlops-fleet-");
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
      try (Connection c = pg.getPostgresDatabase().getConnection();
          Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE models");
      }
      String db = "postgresql://localhost:" + pg.getPort() + "/models?user=postgres";
      out.println("PostgreSQL is up: " + db);

      // The pipeline's side: register two versions and point production at the first.
      try (GovernedRegistry registry =
          RegistryProvider.openUri(
              URI.create(db + "&listen=false&cache=" + work.resolve("cache-ops")),
              OnnxRuntimeEngine.builder().build(),
              Clock.systemUTC())) {
        for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
          Path copy = TestModels.copy(file, work.resolve(file));
          registry.register(Registration.builder("cancer", ArtifactSource.file(copy)).build(), OPS);
        }
        registry.setAlias("cancer", "production", 1, OPS);
        out.println("registered cancer v1 and v2; production -> v1");

        List<Instance> fleet = new ArrayList<>();
        try {
          for (int i = 1; i <= INSTANCES; i++) {
            fleet.add(
                Instance.start("instance-" + i, db + "&cache=" + work.resolve("cache-" + i), work));
          }
          for (Instance inst : fleet) {
            out.println(inst.awaitLine(" ready "));
          }
          List<Map<String, Double>> switches = new ArrayList<>();
          long[][] moves = {{1, 2}, {2, 1}};
          for (long[] move : moves) {
            registry.setAlias("cancer", "production", move[1], OPS);
            long committed = FleetService.micros(Instant.now());
            out.println("moved production v" + move[0] + " -> v" + move[1]);
            Map<String, Double> after = new TreeMap<>();
            for (Instance inst : fleet) {
              String line = inst.awaitLine(" switched v" + move[0] + " -> v" + move[1] + " ");
              long at = Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
              double ms = Math.max(0, at - committed) / 1000.0;
              after.put(inst.name, ms);
              out.printf("  %s switched to v%d %.1f ms after the move%n", inst.name, move[1], ms);
            }
            switches.add(after);
          }
          Map<String, Long> calls = new TreeMap<>();
          Map<String, Long> failed = new TreeMap<>();
          for (Instance inst : fleet) {
            inst.send("stop");
            String done = inst.awaitLine(" done ");
            calls.put(inst.name, Long.parseLong(field(done, "calls")));
            failed.put(inst.name, Long.parseLong(field(done, "failed")));
            out.println(done);
          }
          return new Summary(switches, calls, failed);
        } finally {
          for (Instance inst : fleet) {
            inst.close();
          }
        }
      }
    } finally {
      deleteQuietly(work);
    }
  }

  private static String field(String line, String key) {
    for (String part : line.split(" ")) {
      if (part.startsWith(key + "=")) {
        return part.substring(key.length() + 1);
      }
    }
    throw new IllegalStateException("no " + key + " in: " + line);
  }

  /** A service process, its stdout read line by line. */
  private static final class Instance implements AutoCloseable {
    final String name;
    final Process process;
    final BufferedReader lines;
    final Writer stdin;

    private Instance(String name, Process process) {
      this.name = name;
      this.process = process;
      this.lines =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    }

    static Instance start(String name, String uri, Path work) throws IOException {
      // The class path in an argument file keeps the command line short: ONNX Runtime 1.29
      // crashes the JVM when the command line reaches about 4 KB.
      Path classPath = work.resolve(name + ".classpath");
      Files.writeString(classPath, "-cp \"" + classPath().replace("\\", "\\\\") + "\"\n");
      List<String> cmd =
          List.of(
              Path.of(System.getProperty("java.home"), "bin", "java").toString(),
              "-Xmx256m",
              "@" + classPath,
              FleetService.class.getName(),
              name,
              uri);
      Process p =
          new ProcessBuilder(cmd).redirectError(work.resolve(name + ".log").toFile()).start();
      return new Instance(name, p);
    }

    /**
     * This sample's class path: the class loader's when it runs inside Maven ({@code exec:java}),
     * the JVM's otherwise.
     */
    static String classPath() {
      if (FleetSample.class.getClassLoader() instanceof java.net.URLClassLoader loader
          && loader.getURLs().length > 0) {
        List<String> paths = new ArrayList<>();
        for (java.net.URL url : loader.getURLs()) {
          try {
            paths.add(Path.of(url.toURI()).toString());
          } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            // not a file: nothing a child JVM could load from
          }
        }
        return String.join(java.io.File.pathSeparator, paths);
      }
      return System.getProperty("java.class.path");
    }

    String awaitLine(String contains) throws IOException {
      for (String line; (line = lines.readLine()) != null; ) {
        if (line.contains(contains)) {
          return line;
        }
      }
      throw new IllegalStateException(name + " ended before printing '" + contains + "'");
    }

    void send(String line) throws IOException {
      stdin.write(line + "\n");
      stdin.flush();
    }

    @Override
    public void close() {
      try {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // a temporary directory: the system cleans it eventually
                }
              });
    } catch (IOException e) {
      // as above
    }
  }
}
