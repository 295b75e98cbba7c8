package dev.mlops.api;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Options of one prediction call: a deadline and a request key. Start from {@link #NONE} and add
 * what the call needs:
 *
 * <pre>{@code
 * predictor.predict(row, CallOptions.NONE.deadline(Duration.ofMillis(50)).requestKey(userId));
 * }</pre>
 *
 * <ul>
 *   <li>The <b>deadline</b> runs from the moment the call is made ({@code predict} or {@code
 *       predictAsync} entered). A call that has not finished by then fails with {@link
 *       PredictionTimeoutException}: the engine run is terminated (the session stays usable), and
 *       with dynamic batching a request still queued at its deadline is dropped without running.
 *   <li>The <b>request key</b> names the caller's request (a user, a session, an order id). It is
 *       reported in every {@link dev.mlops.api.spi.PredictionEvent} the call produces, whatever its
 *       outcome, and is what sticky traffic routing hashes. It is opaque to the runtime.
 * </ul>
 *
 * <p>Immutable and thread-safe: each method returns new options and leaves these unchanged. There
 * are deliberately no static factories besides {@link #NONE}: a static {@code deadline(Duration)}
 * could be called through an instance ({@code options.deadline(d)}) and silently drop that
 * instance's key.
 */
public final class CallOptions {

  /** No deadline and no request key: what {@link Predictor#predict(Object)} uses. */
  public static final CallOptions NONE = new CallOptions(null, "");

  private final Duration deadline;
  private final String requestKey;

  private CallOptions(Duration deadline, String requestKey) {
    this.deadline = deadline;
    this.requestKey = requestKey;
  }

  /**
   * These options with a deadline of {@code timeout} after the call starts.
   *
   * @throws IllegalArgumentException if {@code timeout} is zero or negative
   * @throws NullPointerException if {@code timeout} is null (use {@link #NONE} for no deadline)
   */
  public CallOptions deadline(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout must not be null; leave the deadline unset for none");
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException(
          "timeout must be positive but was "
              + timeout
              + "; leave the deadline unset (CallOptions.NONE) for no deadline");
    }
    return new CallOptions(timeout, requestKey);
  }

  /**
   * These options with a request key; the empty string means none.
   *
   * @throws NullPointerException if {@code key} is null
   */
  public CallOptions requestKey(String key) {
    Objects.requireNonNull(key, "key must not be null; use \"\" for none");
    return new CallOptions(deadline, key);
  }

  /** The time the call may take, from its start; empty for no deadline. */
  public Optional<Duration> deadline() {
    return Optional.ofNullable(deadline);
  }

  /** The request key, {@code ""} if none. */
  public String requestKey() {
    return requestKey;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CallOptions other
        && Objects.equals(deadline, other.deadline)
        && requestKey.equals(other.requestKey);
  }

  @Override
  public int hashCode() {
    return Objects.hashCode(deadline) * 31 + requestKey.hashCode();
  }

  @Override
  public String toString() {
    return "CallOptions[deadline="
        + (deadline == null ? "none" : deadline)
        + ", requestKey="
        + (requestKey.isEmpty() ? "none" : "'" + requestKey + "'")
        + "]";
  }
}
