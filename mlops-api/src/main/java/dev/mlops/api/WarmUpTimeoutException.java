package dev.mlops.api;

import java.time.Duration;
import java.util.Objects;

/**
 * Thrown when a run that the library starts while it loads or checks a version (a warm-up on the
 * input example or on synthetic inputs, the input example's run at registration, the run before an
 * alias moves, a child JVM's trial run) does not finish within its deadline. ONNX Runtime was told
 * to terminate the run; the version is refused, and nothing it was to replace changes. The cause is
 * the engine's {@link PredictionTimeoutException}.
 */
public class WarmUpTimeoutException extends ModelLoadException {
  private static final long serialVersionUID = 1L;

  private final Duration deadline;

  /**
   * Creates the exception.
   *
   * @param message names the model, the run, the deadline and the option that sets it
   * @param deadline the deadline the run passed
   * @param cause the engine's timeout
   */
  public WarmUpTimeoutException(String message, Duration deadline, Throwable cause) {
    super(message, cause);
    this.deadline = Objects.requireNonNull(deadline, "deadline");
  }

  /** The deadline the run passed. */
  public Duration deadline() {
    return deadline;
  }
}
