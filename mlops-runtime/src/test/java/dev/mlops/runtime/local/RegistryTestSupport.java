package dev.mlops.runtime.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.ModelVersion;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.Json;
import dev.mlops.runtime.registry.Records;
import dev.mlops.runtime.registry.Storage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/** Helpers shared by the registry's concurrency, multi-process and crash tests. */
public final class RegistryTestSupport {

  private RegistryTestSupport() {}

  /** {@code [1, 2, ..., n]}. */
  static List<Long> oneTo(long n) {
    return LongStream.rangeClosed(1, n).boxed().collect(Collectors.toList());
  }

  /**
   * Every path under {@code root} (directories too, nothing excluded) mapped to {@code "dir"} or
   * the SHA-256 of the file's content.
   */
  public static SortedMap<String, String> snapshot(Path root) throws IOException {
    SortedMap<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        String rel = root.relativize(p).toString();
        out.put(rel.isEmpty() ? "." : rel, Files.isDirectory(p) ? "dir" : Storage.sha256(p));
      }
    }
    return out;
  }

  /**
   * What lies in the registry's staging directory: the stores' own entries, and the entries of
   * registrations ({@code registrations/<id>}), artifacts ({@code artifacts/<id>}) and loads
   * ({@code loads/<id>}) in progress.
   */
  public static List<String> stagingEntries(Path root) throws IOException {
    Path staging = root.resolve("staging");
    if (!Files.isDirectory(staging)) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    try (Stream<Path> list = Files.list(staging)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        String name = p.getFileName().toString();
        if (name.equals("registrations") || name.equals("loads") || name.equals("artifacts")) {
          try (Stream<Path> inner = Files.list(p)) {
            inner.forEach(q -> out.add(name + "/" + q.getFileName()));
          }
        } else {
          out.add(name);
        }
      }
    }
    out.sort(null);
    return out;
  }

  /** Audit entries of one action on one model, in log order. */
  static List<AuditEntry> audit(GovernedRegistry registry, String model, AuditAction action) {
    return registry.auditLog().stream()
        .filter(e -> e.model().equals(model) && e.action() == action)
        .collect(Collectors.toList());
  }

  /** Version numbers named by REGISTER audit entries, in log order. */
  static List<Long> registeredInAudit(GovernedRegistry registry, String model) {
    return audit(registry, model, AuditAction.REGISTER).stream()
        .map(e -> Long.parseLong(e.details().get("version")))
        .collect(Collectors.toList());
  }

  /**
   * Asserts that the model has exactly the versions {@code 1..n}, each complete: its {@code
   * version.json} parses to what {@code versions()} returns and every file matches its digest.
   */
  static List<ModelVersion> assertCompleteVersions(GovernedRegistry registry, String model, long n)
      throws IOException {
    List<ModelVersion> versions = registry.versions(model);
    assertThat(versions).extracting(ModelVersion::version).containsExactlyElementsOf(oneTo(n));
    for (ModelVersion v : versions) {
      Path dir =
          LocalModelRegistry.root(registry)
              .orElseThrow()
              .resolve("models")
              .resolve(model)
              .resolve(Long.toString(v.version()));
      assertThat(Records.versionFromJson(Files.readString(dir.resolve("version.json"))))
          .as("version.json of %s", v.ref())
          .isEqualTo(v);
      assertThat(dev.mlops.runtime.testing.Stored.modelFile(registry, v))
          .isEqualTo(artifactDir(registry, v).resolve(v.modelFile()));
      assertThat(dev.mlops.runtime.testing.Stored.verifiedModelBytes(registry, v)).isNotEmpty();
    }
    return versions;
  }

  /** Where the directory registry keeps a version's files: {@code artifacts/<manifest digest>/}. */
  static Path artifactDir(GovernedRegistry registry, ModelVersion v) {
    return LocalModelRegistry.root(registry).orElseThrow().resolve("artifacts").resolve(v.digest());
  }

  /**
   * Asserts that every {@code models/<name>/state.json} present parses as the registry writes it.
   */
  static int assertStateFilesParse(Path root) throws IOException {
    int parsed = 0;
    try (Stream<Path> models = Files.list(root.resolve("models"))) {
      for (Path m : (Iterable<Path>) models::iterator) {
        Path state = m.resolve("state.json");
        if (Files.exists(state)) {
          var json = Json.parseObject(Files.readString(state));
          assertThat(json).containsOnlyKeys("aliases", "archived", "deleted");
          parsed++;
        }
      }
    }
    return parsed;
  }

  /** Every line of {@code audit.log} parsed; fails on any line that is not a whole entry. */
  static List<AuditEntry> parseAuditFile(Path root) throws IOException {
    List<AuditEntry> out = new ArrayList<>();
    for (String line : Files.readAllLines(root.resolve("audit.log"), StandardCharsets.UTF_8)) {
      out.add(Records.auditFromJson(line));
    }
    return out;
  }

  /**
   * A child JVM running {@link RegistryWorker}, with its stdout lines queued and its stderr in a
   * file. Closing it kills the process if it still runs, so no test leaves one behind.
   */
  public static final class ChildJvm implements AutoCloseable {
    private static final String EOF = "\u0000EOF";

    private final Process process;
    private final Path stderr;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private final Writer stdin;

    private ChildJvm(Process process, Path stderr) {
      this.process = process;
      this.stderr = stderr;
      this.stdin =
          new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    lines.add(line);
                  }
                } catch (IOException e) {
                  // The process was killed; what it wrote before is already queued.
                } finally {
                  lines.add(EOF);
                }
              },
              "child-stdout-" + process.pid());
      reader.setDaemon(true);
      reader.start();
    }

    /**
     * Starts {@code RegistryWorker} with {@code args}; {@code scratch} takes its stderr and its
     * temporary files (ONNX Runtime extracts its native library there, and a killed JVM cannot
     * delete it).
     */
    public static ChildJvm start(Path scratch, String name, String... args) throws IOException {
      Path tmp = Files.createDirectories(scratch.resolve(name + "-tmp"));
      Path err = scratch.resolve(name + ".err");
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xmx192m");
      cmd.add("-XX:+UseSerialGC");
      cmd.add("-XX:TieredStopAtLevel=1");
      cmd.add("-Djava.io.tmpdir=" + tmp);
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(RegistryWorker.class.getName());
      cmd.addAll(List.of(args));
      Process p =
          new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.to(err.toFile())).start();
      return new ChildJvm(p, err);
    }

    Process process() {
      return process;
    }

    /** Lines read so far, including those returned by {@link #nextLine}. */
    List<String> seen() {
      return List.copyOf(seen);
    }

    /** The next stdout line, or {@code null} at end of output; fails after {@code timeout}. */
    String nextLine(Duration timeout) throws InterruptedException {
      String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (line == null) {
        throw new AssertionError(
            "no output from child " + process.pid() + " within " + timeout + diagnostics());
      }
      if (line.equals(EOF)) {
        lines.add(EOF);
        return null;
      }
      seen.add(line);
      return line;
    }

    /** Reads lines until one starts with {@code prefix}; fails on end of output or timeout. */
    public String awaitLine(String prefix, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        long left = deadline - System.nanoTime();
        String line = nextLine(Duration.ofNanos(Math.max(left, 1)));
        if (line == null) {
          throw new AssertionError(
              "child " + process.pid() + " ended before printing " + prefix + diagnostics());
        }
        if (line.startsWith(prefix)) {
          return line;
        }
      }
    }

    /** Reads every remaining line until the process closes stdout. */
    List<String> drain(Duration timeout) throws InterruptedException {
      List<String> rest = new ArrayList<>();
      String line;
      while ((line = nextLine(timeout)) != null) {
        rest.add(line);
      }
      return rest;
    }

    void send(String line) throws IOException {
      stdin.write(line + "\n");
      stdin.flush();
    }

    /**
     * Waits for the exit code; kills the process and fails if it takes longer than {@code timeout}.
     */
    public int awaitExit(Duration timeout) throws InterruptedException {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(
            "child " + process.pid() + " did not finish within " + timeout + diagnostics());
      }
      return process.exitValue();
    }

    /** SIGKILL, then waits until the process is reaped so its pid no longer counts as alive. */
    public void kill() throws InterruptedException {
      process.destroyForcibly();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        throw new AssertionError("child " + process.pid() + " survived SIGKILL for 10 s");
      }
    }

    String diagnostics() {
      try {
        String err = Files.exists(stderr) ? Files.readString(stderr) : "";
        if (err.length() > 4000) {
          err = "..." + err.substring(err.length() - 4000);
        }
        return "; stdout so far " + seen + "; stderr:\n" + err;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void close() {
      if (process.isAlive()) {
        try {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
