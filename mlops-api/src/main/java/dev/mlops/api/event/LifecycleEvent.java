package dev.mlops.api.event;

import dev.mlops.api.ModelVersion;
import java.time.Instant;

/**
 * Something that happened to a model: a registry change (registered, alias moved or deleted,
 * archived, deleted) or a runtime change (loaded, load failed, warm-up failed, swapped, swap
 * refused, unloaded). Delivered to {@link LifecycleListener}s and to metric sinks. Version numbers
 * of {@code 0} mean "none".
 */
public sealed interface LifecycleEvent {

  /** When it happened. */
  Instant time();

  /** The model it concerns. */
  String model();

  /** A new version was registered. @param time when @param version the new version */
  record VersionRegistered(Instant time, ModelVersion version) implements LifecycleEvent {
    @Override
    public String model() {
      return version.name();
    }
  }

  /**
   * An alias was created or moved.
   *
   * @param time when
   * @param model model name
   * @param alias alias name
   * @param fromVersion previous target, 0 if the alias is new
   * @param toVersion new target
   * @param actor who moved it
   * @param reason why
   */
  record AliasMoved(
      Instant time,
      String model,
      String alias,
      long fromVersion,
      long toVersion,
      String actor,
      String reason)
      implements LifecycleEvent {}

  /**
   * An alias was deleted. @param time when @param model model @param alias alias @param fromVersion
   * its last target @param actor who
   */
  record AliasDeleted(Instant time, String model, String alias, long fromVersion, String actor)
      implements LifecycleEvent {}

  /**
   * A version was archived. @param time when @param model model @param version version @param actor
   * who
   */
  record VersionArchived(Instant time, String model, long version, String actor)
      implements LifecycleEvent {}

  /**
   * A version was deleted. @param time when @param model model @param version version @param actor
   * who
   */
  record VersionDeleted(Instant time, String model, long version, String actor)
      implements LifecycleEvent {}

  /**
   * A version was loaded into an inference session and is ready to serve.
   *
   * @param time when
   * @param model model
   * @param version version
   * @param loadNanos time spent verifying, loading and warming up
   */
  record ModelLoaded(Instant time, String model, long version, long loadNanos)
      implements LifecycleEvent {}

  /**
   * A version could not be loaded; whatever served before keeps serving.
   *
   * @param time when
   * @param model model
   * @param version version
   * @param cause why
   */
  record ModelLoadFailed(Instant time, String model, long version, Throwable cause)
      implements LifecycleEvent {}

  /**
   * A version was loaded but its warm-up run on synthetic inputs failed. Without an input example
   * warm-up is best effort: the version serves anyway. Register an input example ({@code
   * Registration.Builder.inputExample}) to warm it up with real inputs, whose failure is a load
   * failure instead.
   *
   * @param time when
   * @param model model
   * @param version version
   * @param inputs the inputs the warm-up used, e.g. {@code synthetic zeros with every dynamic
   *     dimension set to 1: x:float32[1,1]}
   * @param cause why the run failed
   */
  record WarmUpFailed(Instant time, String model, long version, String inputs, Throwable cause)
      implements LifecycleEvent {}

  /**
   * A predictor that follows a reference did not switch to the version it now resolves to, because
   * that version's signature is incompatible with the one it serves; it keeps serving {@code
   * fromVersion} until the reference resolves to a compatible version again.
   *
   * @param time when
   * @param model model
   * @param target the reference the predictor follows
   * @param fromVersion the version it keeps serving
   * @param toVersion the version it refused
   * @param differences what differs, one line each
   */
  record SwapRefused(
      Instant time,
      String model,
      String target,
      long fromVersion,
      long toVersion,
      java.util.List<String> differences)
      implements LifecycleEvent {
    /** Copies the differences. */
    public SwapRefused {
      differences = java.util.List.copyOf(differences);
    }
  }

  /**
   * A predictor switched from one version to another.
   *
   * @param time when
   * @param model model
   * @param target the reference the predictor follows, e.g. {@code models:/fraud@production}
   * @param fromVersion the version it served before, 0 if none
   * @param toVersion the version it serves now
   */
  record VersionSwapped(Instant time, String model, String target, long fromVersion, long toVersion)
      implements LifecycleEvent {}

  /**
   * A loaded version's session was closed. @param time when @param model model @param version
   * version
   */
  record ModelUnloaded(Instant time, String model, long version) implements LifecycleEvent {}

  /**
   * A rollout behind an alias started, changed or ended (in this process or, with a shared
   * registry, anywhere in the fleet).
   *
   * @param time when
   * @param model model
   * @param rollout the rollout as it is after the change
   * @param change what changed: {@code start}, {@code weight}, {@code pause}, {@code resume},
   *     {@code promote}, {@code abort} or {@code rollback}
   * @param actor who
   * @param reason why
   */
  record RolloutChanged(
      Instant time,
      String model,
      dev.mlops.api.Rollout rollout,
      String change,
      String actor,
      String reason)
      implements LifecycleEvent {}
}
