package dev.mlops.runtime.validation;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.Tensor;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.api.WarmUpTimeoutException;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.loading.TensorIo;
import dev.mlops.runtime.loading.WarmUp;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The child-JVM side of {@link ChildJvmValidator}: {@code java -cp ...
 * dev.mlops.runtime.validation.ValidateMain <artifact-directory> <model-file-relative-to-it>
 * <warm-up-policy> <warm-up-deadline> [<input-example-file>]}, the deadline in ISO-8601 ({@code
 * PT30S}). Checks the model's external data, opens it with ONNX Runtime and warms it up as {@link
 * ChildJvmValidator} describes, then prints one line and exits:
 *
 * <ul>
 *   <li>{@code OK <signature>}, exit code 0: the model opened (a line {@code WARMUP-FAILED
 *       <message>} before it tells that a best-effort synthetic run failed without crashing);
 *   <li>{@code REJECTED <message>}, exit code 3: the model was refused cleanly;
 *   <li>{@code TIMEOUT <message>}, exit code 3: a run passed the deadline and was terminated;
 *   <li>{@code ERROR <throwable>}, exit code 4: anything else went wrong in Java;
 *   <li>any other exit code: the process crashed.
 * </ul>
 *
 * <p>Not meant to be called in the service's own JVM: it exits the process.
 */
public final class ValidateMain {

  private ValidateMain() {}

  /**
   * Validates one model and exits with the code described in the class comment.
   *
   * @param args the artifact directory, the model file's path relative to it, the warm-up policy,
   *     the warm-up deadline and, optionally, the input example file
   */
  public static void main(String[] args) {
    PrintStream out = System.out; // the parent reads the result line from stdout
    if (args.length != 4 && args.length != 5) {
      out.println(
          "ERROR usage: ValidateMain <artifact-directory> <model-file> <warm-up-policy>"
              + " <warm-up-deadline> [<input-example>]");
      System.exit(4);
    }
    int code;
    try {
      Path dir = Path.of(args[0]);
      ArtifactLocation location = new ArtifactLocation(dir, dir.resolve(args[1]));
      WarmUpPolicy policy = WarmUpPolicy.valueOf(args[2]);
      Duration deadline = WarmUpPolicy.checkDeadline("warm-up deadline", Duration.parse(args[3]));
      Optional<Map<String, Tensor>> example = Optional.empty();
      if (args.length == 5) {
        try (DataInputStream in =
            new DataInputStream(new BufferedInputStream(Files.newInputStream(Path.of(args[4]))))) {
          example = Optional.of(TensorIo.read(in));
        }
      }
      try (OnnxRuntimeEngine engine = new OnnxRuntimeEngine();
          ModelSession session = engine.open(location)) {
        if (example.isPresent()) {
          // The registry runs the example in-process after this child, so the child runs it
          // whatever the policy.
          WarmUp.runExample(session, example.get(), deadline, args[1], DEADLINE_SETTING);
        } else {
          WarmUp.run(session, example, policy, deadline, args[1], DEADLINE_SETTING)
              .ifPresent(e -> out.println("WARMUP-FAILED " + oneLine(e.getMessage())));
        }
        out.println("OK " + session.signature());
      }
      code = 0;
    } catch (WarmUpTimeoutException e) {
      out.println("TIMEOUT " + oneLine(e.getMessage()));
      code = ChildJvmValidator.EXIT_REJECTED;
    } catch (ModelLoadException e) {
      out.println("REJECTED " + oneLine(e.getMessage()));
      code = ChildJvmValidator.EXIT_REJECTED;
    } catch (Throwable t) {
      out.println("ERROR " + oneLine(t.toString()));
      code = 4;
    }
    out.flush();
    System.exit(code);
  }

  /** The option that sets the child's deadline, named when a run passes it. */
  static final String DEADLINE_SETTING = "ChildJvmValidator.builder().warmUpDeadline(...)";

  private static String oneLine(String s) {
    return s == null ? "" : s.replace('\n', ' ').replace('\r', ' ');
  }
}
