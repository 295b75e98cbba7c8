package dev.mlops.api;

import java.time.Instant;
import java.util.Objects;

/**
 * A progressive delivery behind an alias: a candidate version takes a share of the calls that
 * follow the alias, while the alias still points at the stable version. It is registry state,
 * changed by compare-and-set and audited like an alias, so every instance of a fleet applies the
 * same one; every predictor that follows the alias routes by it, with no change in the caller.
 *
 * <p>Routing: a call with a request key ({@link CallOptions#requestKey}) goes to the candidate when
 * the key's hash with the rollout's {@link #id()} falls below the weight, so a key stays on its arm
 * while the rollout is unchanged, and when the weight grows a key moves only from stable to
 * candidate, never back. A call without a key picks its arm at random by weight.
 *
 * <p>Shadow (mirror): a share {@link #shadow()} of the calls the stable version answers is also run
 * on the candidate, off the caller's thread, on a bounded executor; its result is compared with the
 * stable one and discarded, so the caller's result, exception and latency never depend on it. A
 * shadow-only rollout (weight 0, shadow 100 %) compares a challenger on live inputs with no traffic
 * risk.
 *
 * @param model the model
 * @param alias the alias whose callers are routed
 * @param id the rollout's identity, fixed at its start: the salt of the key hash
 * @param stable the version the alias points at, which the rest of the calls get
 * @param candidate the version being rolled out
 * @param weight the candidate's share of the calls, in basis points (0 to 10,000 = 100 %)
 * @param shadow the share of the stable arm's calls also run on the candidate as a shadow, in basis
 *     points (0 for none)
 * @param plan its step schedule and analysis, {@link RolloutPlan#MANUAL} for none
 * @param state where the rollout stands
 * @param reason why it last changed, as its actor gave it (for an automatic rollback, the failed
 *     checks)
 * @param started when it started
 * @param updated when it last changed
 * @param revision the store's revision of the rollout record, for compare-and-set; it grows with
 *     every change, across rollouts on the alias
 */
public record Rollout(
    String model,
    String alias,
    String id,
    long stable,
    long candidate,
    int weight,
    int shadow,
    RolloutPlan plan,
    State state,
    String reason,
    Instant started,
    Instant updated,
    long revision) {

  /** 100 %, in basis points. */
  public static final int FULL = 10_000;

  /** Where a rollout stands. */
  public enum State {
    /** Calls are routed by the weight. */
    RUNNING(true),
    /** Calls are routed by the weight, and the weight does not change until it is resumed. */
    PAUSED(true),
    /** Ended: the alias was moved to the candidate. */
    PROMOTED(false),
    /** Ended by a caller: every call goes to the stable version. */
    ABORTED(false),
    /** Ended by failed checks: every call goes to the stable version. */
    ROLLED_BACK(false);

    private final boolean active;

    State(boolean active) {
      this.active = active;
    }

    /** Whether calls are routed by the rollout in this state. */
    public boolean active() {
      return active;
    }
  }

  /** Validates. */
  public Rollout {
    ModelRef.checkName(model);
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(plan, "plan");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(started, "started");
    Objects.requireNonNull(updated, "updated");
    if (stable < 1 || candidate < 1 || stable == candidate) {
      throw new IllegalArgumentException(
          "stable and candidate must be two versions >= 1: " + stable + ", " + candidate);
    }
    checkWeight("weight", weight);
    checkWeight("shadow", shadow);
    if (revision < 0) {
      throw new IllegalArgumentException("revision must be >= 0: " + revision);
    }
  }

  static void checkWeight(String what, int basisPoints) {
    if (basisPoints < 0 || basisPoints > FULL) {
      throw new IllegalArgumentException(
          what + " must be 0 to 10000 basis points (0 to 100 %), was " + basisPoints);
    }
  }

  /** Whether calls are routed by this rollout now. */
  public boolean active() {
    return state.active();
  }

  /** The weight as a percentage, e.g. 12.5. */
  public double weightPercent() {
    return weight / 100.0;
  }

  /** The shadow share as a percentage, e.g. 100.0. */
  public double shadowPercent() {
    return shadow / 100.0;
  }

  /** This rollout with another weight, state, reason and update time (same identity). */
  public Rollout with(int weight, State state, String reason, Instant updated) {
    return new Rollout(
        model, alias, id, stable, candidate, weight, shadow, plan, state, reason, started, updated,
        revision);
  }

  /** This rollout at another store revision. */
  public Rollout atRevision(long revision) {
    return new Rollout(
        model, alias, id, stable, candidate, weight, shadow, plan, state, reason, started, updated,
        revision);
  }
}
