package dev.mlops.runtime.validation;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.runtime.loading.TensorIo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens and runs a new model in a separate JVM before the registry accepts it, so that a model that
 * crashes ONNX Runtime's native code (a segmentation fault, an abort, a hang) takes down a
 * throw-away process instead of the service.
 *
 * <p>The child runs {@link ValidateMain}: it checks the model's external data, opens the model with
 * ONNX Runtime and warms it up under the same {@link WarmUpPolicy} rules as a runtime's load: the
 * registration's input example, when it has one, always runs (the registry runs it in-process next,
 * so the child must survive it first) and its failure refuses the model; without one, {@link
 * WarmUpPolicy#BEST_EFFORT} (the default) tries synthetic inputs and only logs their failure,
 * {@link WarmUpPolicy#REQUIRE_INPUT_EXAMPLE} refuses the model, {@link WarmUpPolicy#NONE} runs
 * nothing. Each run has a {@linkplain Builder#warmUpDeadline deadline} (30 s by default) after
 * which ONNX Runtime terminates it and the model is refused with a {@link
 * dev.mlops.api.WarmUpTimeoutException}. A clean rejection (a corrupt or unsupported model, a
 * failing example) becomes a {@link ModelLoadException} with the child's message; a child that dies
 * (non-zero exit, a signal) becomes {@code ModelLoadException("validation in a child JVM crashed:
 * exit code ...")}; a child that runs past the timeout is killed and refused the same way.
 *
 * <p>It costs a JVM start and a model load per registration (typically one to a few seconds). It
 * narrows, but cannot close, the gap described in {@code SECURITY.md}: a model crafted to behave
 * differently on a second load, or to exploit the parser without crashing it, is not caught.
 * Immutable and thread-safe; each call starts its own process.
 */
public final class ChildJvmValidator {

  private static final Logger LOG = LoggerFactory.getLogger(ChildJvmValidator.class);

  /** Exit code of {@link ValidateMain} for a model it refuses cleanly. */
  static final int EXIT_REJECTED = 3;

  private final Duration timeout;
  private final Path javaCommand;
  private final String classpath;
  private final List<String> jvmOptions;
  private final String mainClass;
  private final WarmUpPolicy warmUp;
  private final Duration warmUpDeadline;

  private ChildJvmValidator(Builder b) {
    this.warmUp = b.warmUp;
    this.warmUpDeadline = b.warmUpDeadline;
    this.timeout = b.timeout;
    this.javaCommand =
        b.javaCommand != null
            ? b.javaCommand
            : Path.of(System.getProperty("java.home"), "bin", "java");
    this.classpath = b.classpath != null ? b.classpath : System.getProperty("java.class.path");
    this.jvmOptions = List.copyOf(b.jvmOptions);
    this.mainClass = b.mainClass;
  }

  /**
   * A validator with the defaults: this JVM's {@code java} and class path, a 60 s timeout, the JVM
   * options {@code -XX:+UseSerialGC -XX:TieredStopAtLevel=1} (a quick start).
   */
  public static ChildJvmValidator defaults() {
    return builder().build();
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** How long a child may run before it is killed. */
  public Duration timeout() {
    return timeout;
  }

  /** How long each of the child's runs may take. */
  public Duration warmUpDeadline() {
    return warmUpDeadline;
  }

  /** The warm-up policy the child applies. */
  public WarmUpPolicy warmUpPolicy() {
    return warmUp;
  }

  /**
   * Validates a model without an input example in a child JVM; returns normally when it opened
   * (and, per the warm-up policy, ran) there.
   *
   * @throws ModelLoadException if the child refused the model, crashed or timed out
   */
  public void validate(ArtifactLocation artifact) {
    validate(artifact, Optional.empty());
  }

  /**
   * Validates a model in a child JVM; returns normally when it opened and warmed up there as the
   * class comment says.
   *
   * @param artifact the model's files
   * @param inputExample a file in {@link TensorIo} form holding the registration's input example,
   *     if it has one
   * @throws ModelLoadException if the child refused the model, crashed or timed out
   */
  public void validate(ArtifactLocation artifact, Optional<Path> inputExample) {
    Objects.requireNonNull(artifact, "artifact");
    Objects.requireNonNull(inputExample, "inputExample");
    Path scratch;
    try {
      scratch = Files.createTempDirectory("mlops-validate-");
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create a scratch directory for the child JVM: " + e.getMessage(), e);
    }
    Path log = scratch.resolve("child.log");
    Path tmp = scratch.resolve("tmp");
    List<String> cmd = new ArrayList<>();
    cmd.add(javaCommand.toString());
    cmd.addAll(jvmOptions);
    // ONNX Runtime unpacks its native library into the temporary directory; a killed child
    // cannot remove it, so give each child its own and delete it afterwards.
    cmd.add("-Djava.io.tmpdir=" + tmp);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(mainClass);
    cmd.add(artifact.directory().toAbsolutePath().toString());
    cmd.add(artifact.directory().relativize(artifact.modelFile()).toString());
    cmd.add(warmUp.name());
    cmd.add(warmUpDeadline.toString());
    inputExample.ifPresent(f -> cmd.add(f.toAbsolutePath().toString()));
    String what = artifact.modelFile().getFileName().toString();
    Process p = null;
    try {
      Files.createDirectories(tmp);
      long start = System.nanoTime();
      p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        throw new ModelLoadException(
            "validation of "
                + what
                + " in a child JVM did not finish within "
                + timeout
                + "; the child was killed and the model refused"
                + tail(log));
      }
      int exit = p.exitValue();
      String output = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
      LOG.debug(
          "child JVM validated {} in {} ms: exit code {}",
          what,
          (System.nanoTime() - start) / 1_000_000,
          exit);
      if (exit == 0 && line(output, "OK ") != null) {
        String warm = line(output, "WARMUP-FAILED ");
        if (warm != null) {
          LOG.warn(
              "{} opened in a child JVM but its warm-up on synthetic inputs failed: {}",
              what,
              warm);
        }
        return;
      }
      if (exit == EXIT_REJECTED) {
        String timeout = line(output, "TIMEOUT ");
        if (timeout != null) {
          throw new dev.mlops.api.WarmUpTimeoutException(
              timeout + " (in a child JVM)", warmUpDeadline, null);
        }
        String reason = line(output, "REJECTED ");
        throw new ModelLoadException(
            reason != null
                ? reason
                : "validation of " + what + " in a child JVM refused it" + tail(log));
      }
      throw new ModelLoadException(
          "validation in a child JVM crashed: exit code "
              + exit
              + signal(exit)
              + " while "
              + "opening "
              + what
              + "; the model is refused"
              + tail(log));
    } catch (IOException e) {
      throw new ModelLoadException(
          "cannot run the child JVM to validate " + what + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ModelLoadException("interrupted while validating " + what + " in a child JVM", e);
    } finally {
      if (p != null && p.isAlive()) {
        p.destroyForcibly();
      }
      deleteQuietly(scratch);
    }
  }

  private static String signal(int exit) {
    return exit > 128 && exit < 160 ? " (signal " + (exit - 128) + ")" : "";
  }

  private static String line(String output, String prefix) {
    for (String l : output.split("\n")) {
      if (l.startsWith(prefix)) {
        return l.substring(prefix.length()).strip();
      }
    }
    return null;
  }

  private static String tail(Path log) {
    try {
      if (!Files.exists(log)) {
        return "";
      }
      String s = Files.readString(log, StandardCharsets.UTF_8).strip();
      if (s.isEmpty()) {
        return "";
      }
      return "; child output: " + (s.length() > 2000 ? "..." + s.substring(s.length() - 2000) : s);
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      LOG.debug("cannot remove the child JVM's scratch directory {}: {}", dir, e.toString());
    }
  }

  @Override
  public String toString() {
    return "ChildJvmValidator[timeout="
        + timeout
        + ", java="
        + javaCommand
        + ", warmUp="
        + warmUp
        + ", warmUpDeadline="
        + warmUpDeadline
        + "]";
  }

  /** Builder for {@link ChildJvmValidator}; each option can be set once. Not thread-safe. */
  public static final class Builder {
    private Duration timeout = Duration.ofSeconds(60);
    private boolean timeoutSet;
    private Path javaCommand;
    private String classpath;
    private List<String> jvmOptions = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    private boolean jvmOptionsSet;
    private String mainClass = ValidateMain.class.getName();
    private WarmUpPolicy warmUp = WarmUpPolicy.BEST_EFFORT;
    private boolean warmUpSet;
    private Duration warmUpDeadline = WarmUpPolicy.DEFAULT_DEADLINE;
    private boolean warmUpDeadlineSet;

    private Builder() {}

    /**
     * How long each of the child's runs (the input example, or the synthetic warm-up) may take
     * (default {@link WarmUpPolicy#DEFAULT_DEADLINE}, 30 s). A run past it is terminated and the
     * model refused with a {@link dev.mlops.api.WarmUpTimeoutException}, without waiting for the
     * child's {@linkplain #timeout timeout}, which must be longer when both are set.
     *
     * @throws IllegalArgumentException if {@code deadline} is zero or negative
     */
    public Builder warmUpDeadline(Duration deadline) {
      WarmUpPolicy.checkDeadline("warmUpDeadline", deadline);
      if (warmUpDeadlineSet) {
        throw new IllegalStateException("warmUpDeadline was already set to " + warmUpDeadline);
      }
      this.warmUpDeadline = deadline;
      warmUpDeadlineSet = true;
      return this;
    }

    /**
     * How the child warms the model up (default {@link WarmUpPolicy#BEST_EFFORT}, as a runtime
     * does); use the policy of the runtimes that will serve the registry.
     */
    public Builder warmUp(WarmUpPolicy policy) {
      Objects.requireNonNull(policy, "policy");
      if (warmUpSet) {
        throw new IllegalStateException("warmUp was already set to " + warmUp);
      }
      this.warmUp = policy;
      warmUpSet = true;
      return this;
    }

    /** How long a child may run before it is killed (default 60 s). */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive but was " + timeout);
      }
      if (timeoutSet) {
        throw new IllegalStateException("timeout was already set to " + this.timeout);
      }
      this.timeout = timeout;
      timeoutSet = true;
      return this;
    }

    /** The {@code java} executable (default: the one running this JVM). */
    public Builder javaCommand(Path java) {
      if (javaCommand != null) {
        throw new IllegalStateException("javaCommand was already set to " + javaCommand);
      }
      this.javaCommand = Objects.requireNonNull(java, "java");
      return this;
    }

    /**
     * The child's class path; it must hold mlops-runtime, mlops-api, ONNX Runtime and SLF4J
     * (default: this JVM's {@code java.class.path}).
     */
    public Builder classpath(String classpath) {
      if (this.classpath != null) {
        throw new IllegalStateException("classpath was already set to " + this.classpath);
      }
      this.classpath = Objects.requireNonNull(classpath, "classpath");
      return this;
    }

    /** JVM options for the child, e.g. {@code -Xmx2g} for large models (replaces the defaults). */
    public Builder jvmOptions(String... options) {
      if (jvmOptionsSet) {
        throw new IllegalStateException("jvmOptions were already set to " + jvmOptions);
      }
      this.jvmOptions = List.of(options);
      jvmOptionsSet = true;
      return this;
    }

    /** The child's main class; tests put a crashing one here. */
    Builder mainClass(String mainClass) {
      this.mainClass = Objects.requireNonNull(mainClass, "mainClass");
      return this;
    }

    /**
     * Builds the validator.
     *
     * @throws IllegalStateException if both {@code warmUpDeadline} and {@code timeout} were set and
     *     the deadline is not shorter: the child would be killed before its run is terminated
     */
    public ChildJvmValidator build() {
      if (warmUpDeadlineSet && timeoutSet && warmUpDeadline.compareTo(timeout) >= 0) {
        throw new IllegalStateException(
            "warmUpDeadline ("
                + warmUpDeadline
                + ") must be shorter than timeout ("
                + timeout
                + "), which kills the child JVM");
      }
      return new ChildJvmValidator(this);
    }
  }
}
