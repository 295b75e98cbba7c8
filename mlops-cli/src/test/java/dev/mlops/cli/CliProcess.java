package dev.mlops.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the real {@code bin/mlops} launcher on the jar the build packaged, as a process, with a
 * registry URI in {@code MLOPS_REGISTRY}: what a user or a CI job runs.
 */
final class CliProcess {

  /** What one run printed and returned. */
  record Result(int exit, String out, String err, long millis) {
    /** The stderr lines that are not the JVM's or ONNX Runtime's own noise. */
    List<String> errLines() {
      return err.lines().filter(l -> !l.isBlank()).toList();
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  static final Path JAR = Path.of(System.getProperty("mlops.jar", "target/mlops.jar"));
  static final Path LAUNCHER = Path.of(System.getProperty("mlops.launcher", "bin/mlops"));
  static final AtomicInteger LAUNCHES = new AtomicInteger();

  private final String registry;
  private final Path work;

  CliProcess(String registry, Path work) {
    this.registry = registry;
    this.work = work;
  }

  Result run(String... args) throws IOException, InterruptedException {
    return runWithInput(null, args);
  }

  Result runWithInput(String stdin, String... args) throws IOException, InterruptedException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(
          "expected the packaged jar at " + JAR + " (run the ITs with mvn verify)");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(LAUNCHER.toAbsolutePath().toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile());
    Map<String, String> env = pb.environment();
    env.put("MLOPS_JAR", JAR.toAbsolutePath().toString());
    env.put("MLOPS_REGISTRY", registry);
    env.put("MLOPS_ACTOR", "alice");
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("MLOPS_JAVA_OPTS", "-Djava.io.tmpdir=" + work.resolve("tmp"));
    Files.createDirectories(work.resolve("tmp"));
    Path out = Files.createTempFile(work, "out", ".txt");
    Path err = Files.createTempFile(work, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    if (stdin == null) {
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    }
    long start = System.nanoTime();
    Process p = pb.start();
    LAUNCHES.incrementAndGet();
    if (stdin != null) {
      try (var os = p.getOutputStream()) {
        os.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("mlops " + String.join(" ", args) + " ran past 180 s");
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    return new Result(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8),
        millis);
  }
}
