package dev.mlops.micronaut;

import dev.mlops.api.WarmUpPolicy;
import dev.mlops.runtime.Mlops;
import io.micronaut.context.annotation.ConfigurationProperties;

/**
 * The runtime's properties, under {@code mlops}: {@code session-cache-budget} (bytes), {@code
 * drain-timeout}, {@code warm-up} ({@code best-effort, require-input-example, none}), {@code
 * warm-up-deadline}, {@code stagger-swaps}, {@code swap-delay}, {@code rollout-decisions}, {@code
 * shadow-capacity}, {@code shadow-deadline} and the session options under {@code mlops.session}.
 * Unset properties keep the defaults of {@link Mlops.Builder}. Not thread-safe: Micronaut fills it
 * once at startup.
 */
@ConfigurationProperties("mlops")
public class MlopsProperties {

  private Long sessionCacheBudget;
  private String drainTimeout;
  private String warmUp;
  private String warmUpDeadline;
  private String staggerSwaps;
  private String swapDelay;
  private Boolean rolloutDecisions;
  private Integer shadowCapacity;
  private String shadowDeadline;
  private Session session = new Session();

  /** The session cache's memory budget in artifact bytes. */
  public void setSessionCacheBudget(Long bytes) {
    this.sessionCacheBudget = bytes;
  }

  /** How long closing the runtime waits for calls in flight. */
  public void setDrainTimeout(String timeout) {
    this.drainTimeout = timeout;
  }

  /** The warm-up policy of every predictor that sets none. */
  public void setWarmUp(String policy) {
    this.warmUp = policy;
  }

  /** The deadline of each warm-up run. */
  public void setWarmUpDeadline(String deadline) {
    this.warmUpDeadline = deadline;
  }

  /** A random delay, up to this, before each hot swap of this instance. */
  public void setStaggerSwaps(String upTo) {
    this.staggerSwaps = upTo;
  }

  /** An exact delay before each hot swap of this instance. */
  public void setSwapDelay(String delay) {
    this.swapDelay = delay;
  }

  /** Whether this instance decides rollouts from its own calls (default true). */
  public void setRolloutDecisions(Boolean decide) {
    this.rolloutDecisions = decide;
  }

  /** The most rollout shadow copies that may wait or run at once; beyond it they are dropped. */
  public void setShadowCapacity(Integer copies) {
    this.shadowCapacity = copies;
  }

  /** How long a rollout's shadow copy may run on the candidate before it is terminated. */
  public void setShadowDeadline(String deadline) {
    this.shadowDeadline = deadline;
  }

  /** The session options of every predictor that sets none. */
  public Session getSession() {
    return session;
  }

  /** The session options of every predictor that sets none. */
  public void setSession(Session session) {
    this.session = session;
  }

  /** How long closing waits for calls in flight, on the server and in the runtime. */
  java.time.Duration drainTimeout() {
    return drainTimeout == null
        ? java.time.Duration.ofSeconds(30)
        : Settings.duration("mlops.drain-timeout", drainTimeout);
  }

  /** Applies these properties to a runtime builder. */
  Mlops.Builder applyTo(Mlops.Builder b) {
    if (sessionCacheBudget != null) {
      b.sessionCacheBudget(Settings.atLeast("mlops.session-cache-budget", sessionCacheBudget, 1));
    }
    if (drainTimeout != null) {
      b.drainTimeout(Settings.duration("mlops.drain-timeout", drainTimeout));
    }
    if (warmUp != null) {
      b.warmUp(Settings.choice("mlops.warm-up", warmUp, WarmUpPolicy.class));
    }
    if (warmUpDeadline != null) {
      b.warmUpDeadline(Settings.positiveDuration("mlops.warm-up-deadline", warmUpDeadline));
    }
    if (staggerSwaps != null) {
      b.staggerSwaps(Settings.duration("mlops.stagger-swaps", staggerSwaps));
    }
    if (swapDelay != null) {
      b.swapDelay(Settings.duration("mlops.swap-delay", swapDelay));
    }
    if (rolloutDecisions != null) {
      b.rolloutDecisions(rolloutDecisions);
    }
    if (shadowCapacity != null) {
      b.shadowCapacity((int) Settings.atLeast("mlops.shadow-capacity", shadowCapacity, 1));
    }
    if (shadowDeadline != null) {
      b.shadowDeadline(Settings.positiveDuration("mlops.shadow-deadline", shadowDeadline));
    }
    if (session.isSet()) {
      b.sessionOptions(session.applyTo(dev.mlops.api.SessionOptions.DEFAULTS, "mlops.session"));
    }
    return b;
  }

  /** {@code mlops.session.*}. */
  @ConfigurationProperties("session")
  public static class Session extends SessionProperties {}
}
