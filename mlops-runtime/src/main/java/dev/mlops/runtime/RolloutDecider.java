package dev.mlops.runtime;

import dev.mlops.api.AnalysisPolicy;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ConflictException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.PermissionDeniedException;
import dev.mlops.api.Rollout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the runtime's automatic rollouts on: every plan interval it takes the window each arm
 * counted (over every predictor of this runtime that follows the alias), runs the analysis, and
 * then rolls back after the failure threshold, or steps the weight up when the window passed, or
 * promotes after the last step. It decides from this runtime's own calls; its changes go through
 * the registry by compare-and-set, so in a fleet one decision per rollout revision wins and every
 * instance follows it. A runtime whose registry refuses its writes (a read-only role) stops
 * deciding, and says so once.
 */
final class RolloutDecider {

  private static final Logger LOG = LoggerFactory.getLogger(RolloutDecider.class);

  /** The actor of the decider's changes in the audit log. */
  static final String ACTOR = "mlops-rollouts";

  private final Mlops runtime;
  private final LongSupplier ticker;
  private final Map<String, Progress> progress = new HashMap<>();
  private volatile boolean refused;

  /** Where one rollout stands in this runtime's analysis. */
  private static final class Progress {
    long revision = -1;
    long windowStart;
    int checks;
    int failed;
    String lastFailure = "";
  }

  RolloutDecider(Mlops runtime, LongSupplier ticker) {
    this.runtime = runtime;
    this.ticker = ticker;
  }

  /** One round: every automatic rollout whose window has ended is analysed and moved on. */
  synchronized void tick() {
    if (refused) {
      return;
    }
    Map<String, List<Binding.Route>> byRollout = new LinkedHashMap<>();
    for (Binding.Route r : runtime.routes()) {
      if (r.rollout.plan().automatic() && r.rollout.state() == Rollout.State.RUNNING) {
        byRollout.computeIfAbsent(r.rollout.id(), k -> new ArrayList<>()).add(r);
      }
    }
    progress.keySet().retainAll(byRollout.keySet());
    long now = ticker.getAsLong();
    for (List<Binding.Route> routes : byRollout.values()) {
      Rollout rollout = newest(routes);
      Progress p = progress.computeIfAbsent(rollout.id(), k -> new Progress());
      if (p.revision != rollout.revision()) {
        // A new rollout or a new step: its first window starts now.
        p.revision = rollout.revision();
        p.windowStart = now;
        drain(routes);
        continue;
      }
      if (now - p.windowStart < rollout.plan().interval().toNanos()) {
        continue;
      }
      p.windowStart = now;
      RolloutWindow.Counts stable = RolloutWindow.Counts.empty();
      RolloutWindow.Counts candidate = RolloutWindow.Counts.empty();
      for (Binding.Route r : routes) {
        stable = stable.plus(r.drain(false));
        candidate = candidate.plus(r.drain(true));
      }
      decide(rollout, p, stable, candidate);
    }
  }

  private static Rollout newest(List<Binding.Route> routes) {
    Rollout newest = routes.get(0).rollout;
    for (Binding.Route r : routes) {
      if (r.rollout.revision() > newest.revision()) {
        newest = r.rollout;
      }
    }
    return newest;
  }

  private static void drain(List<Binding.Route> routes) {
    for (Binding.Route r : routes) {
      r.drain(false);
      r.drain(true);
    }
  }

  private void decide(
      Rollout r, Progress p, RolloutWindow.Counts stable, RolloutWindow.Counts candidate) {
    Optional<AnalysisPolicy> analysis = r.plan().analysis();
    if (analysis.isPresent()) {
      AnalysisPolicy a = analysis.get();
      if (candidate.calls() < a.minRequests()) {
        LOG.debug(
            "rollout {}: inconclusive window, {} candidate calls of the {} needed",
            r.id(),
            candidate.calls(),
            a.minRequests());
        return;
      }
      p.checks++;
      List<String> failures = failures(a, stable, candidate);
      if (!failures.isEmpty()) {
        p.failed++;
        p.lastFailure = String.join(", ", failures);
        LOG.warn(
            "rollout {} of models:/{}/{} failed a check ({} of {}): {}",
            r.id(),
            r.model(),
            r.candidate(),
            p.failed,
            a.failureThreshold(),
            p.lastFailure);
        if (p.failed >= a.failureThreshold()) {
          String reason =
              "auto-rollback: " + p.lastFailure + " in " + p.failed + " of " + p.checks + " checks";
          write(
              r,
              "roll back",
              () -> runtime.registry().rollBackRollout(r.model(), r.alias(), audit(reason)));
        }
        return;
      }
    }
    if (r.plan().steps().isEmpty()) {
      return; // an analysis only guards
    }
    Optional<Integer> next = r.plan().stepAfter(r.weight());
    if (next.isPresent()) {
      String reason =
          "step to " + next.get() / 100.0 + " %: the window at " + r.weightPercent() + " % passed";
      write(
          r,
          "step",
          () ->
              runtime.registry().setRolloutWeight(r.model(), r.alias(), next.get(), audit(reason)));
    } else {
      String reason = "promoted: every step passed";
      write(
          r,
          "promote",
          () -> runtime.registry().promoteRollout(r.model(), r.alias(), audit(reason)));
    }
  }

  private static List<String> failures(
      AnalysisPolicy a, RolloutWindow.Counts stable, RolloutWindow.Counts candidate) {
    List<String> out = new ArrayList<>();
    if (candidate.errorRate() > a.maxErrorRate()) {
      out.add(
          String.format(
              Locale.ROOT,
              "error rate %.1f %% > %.1f %%",
              candidate.errorRate() * 100,
              a.maxErrorRate() * 100));
    }
    long p99 = candidate.p99();
    if (a.maxP99().isPresent() && p99 > a.maxP99().get().toNanos()) {
      out.add(
          String.format(
              Locale.ROOT, "p99 %s > %s", millis(p99), millis(a.maxP99().get().toNanos())));
    }
    if (a.maxP99Ratio() > 0 && stable.calls() >= a.minRequests()) {
      long base = stable.p99();
      if (base > 0 && p99 > a.maxP99Ratio() * base) {
        out.add(
            String.format(
                Locale.ROOT,
                "p99 %s > %.1f × the stable arm's %s",
                millis(p99),
                a.maxP99Ratio(),
                millis(base)));
      }
    }
    return out;
  }

  private static String millis(long nanos) {
    return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
  }

  private static AuditInfo audit(String reason) {
    return AuditInfo.by(ACTOR, reason);
  }

  private void write(Rollout r, String what, Runnable change) {
    try {
      change.run();
    } catch (ConflictException e) {
      // Another decider, or a caller, changed the rollout first: its new revision starts over.
      LOG.debug("rollout {}: could not {}: {}", r.id(), what, e.getMessage());
    } catch (PermissionDeniedException e) {
      refused = true;
      LOG.warn(
          "rollout {}: this runtime cannot {} ({}); it stops deciding rollouts: let a runtime with"
              + " the registry's writer credentials decide, or build this one with"
              + " rolloutDecisions(false)",
          r.id(),
          what,
          e.getMessage());
    } catch (MlopsException | IllegalArgumentException e) {
      LOG.warn("rollout {}: cannot {}: {}", r.id(), what, e.toString());
    }
  }
}
