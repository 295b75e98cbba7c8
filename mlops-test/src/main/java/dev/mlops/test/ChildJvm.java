package dev.mlops.test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM on this JVM's class path, with its stdout lines queued and its stderr in a file: for
 * tests with several processes (the kits' multi-process checks, a fleet of instances). Closing it
 * kills the process if it still runs, so no test leaves one behind. Not thread-safe: one test
 * thread reads its lines.
 */
public final class ChildJvm implements AutoCloseable {

  private static final String EOF = "\u0000EOF";

  private final Process process;
  private final Path stderr;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> seen = new ArrayList<>();
  private final Writer stdin;

  private ChildJvm(Process process, Path stderr) {
    this.process = process;
    this.stderr = stderr;
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
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
            "kit-child-stdout-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts {@code mainClass} with {@code args}; {@code scratch} takes its stderr ({@code name.err})
   * and its temporary files.
   */
  public static ChildJvm start(Path scratch, String name, Class<?> mainClass, List<String> args)
      throws IOException {
    return start(scratch, name, mainClass, List.of("-Xmx256m"), args);
  }

  /**
   * Starts {@code mainClass} with {@code args} and these JVM options (e.g. {@code -Xmx512m});
   * {@code scratch} takes its stderr ({@code name.err}) and its temporary files.
   *
   * @throws IOException if the process cannot be started
   */
  public static ChildJvm start(
      Path scratch, String name, Class<?> mainClass, List<String> jvmOptions, List<String> args)
      throws IOException {
    Path tmp = Files.createDirectories(scratch.resolve(name + "-tmp"));
    Path err = scratch.resolve(name + ".err");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Djava.io.tmpdir=" + tmp);
    // The class path goes in an argument file: ONNX Runtime 1.29 crashes the JVM (SIGSEGV) while
    // it creates its environment when the process's command line reaches about 4 KB, which a test
    // class path with a few dozen jars does.
    Path argFile = scratch.resolve(name + ".classpath");
    Files.writeString(
        argFile, "-cp \"" + System.getProperty("java.class.path").replace("\\", "\\\\") + "\"\n");
    cmd.add("@" + argFile);
    cmd.add(mainClass.getName());
    cmd.addAll(args);
    Process p =
        new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.to(err.toFile())).start();
    return new ChildJvm(p, err);
  }

  /** The process. */
  public Process process() {
    return process;
  }

  /**
   * The next stdout line, or {@code null} at the end of the output; fails after {@code timeout}.
   */
  public String nextLine(Duration timeout) throws InterruptedException {
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

  /**
   * Reads lines until one starts with {@code prefix}; fails at the end of the output or on timeout.
   */
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

  /** Every remaining line, until the process closes its stdout. */
  public List<String> drain(Duration timeout) throws InterruptedException {
    List<String> rest = new ArrayList<>();
    String line;
    while ((line = nextLine(timeout)) != null) {
      rest.add(line);
    }
    return rest;
  }

  /** Writes one line to the child's stdin. */
  public void send(String line) throws IOException {
    stdin.write(line + "\n");
    stdin.flush();
  }

  /** The exit code; kills the process and fails if it takes longer than {@code timeout}. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError(
          "child " + process.pid() + " did not finish within " + timeout + diagnostics());
    }
    return process.exitValue();
  }

  /** SIGKILL ({@link Process#destroyForcibly()}), then waits until the process is reaped. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      throw new AssertionError("child " + process.pid() + " survived SIGKILL for 10 s");
    }
  }

  /** What the child printed so far and the end of its stderr, for failure messages. */
  public String diagnostics() {
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
