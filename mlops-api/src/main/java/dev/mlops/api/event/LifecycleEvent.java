package dev.mlops.api.event;

import dev.mlops.api.ModelVersion;
import java.time.Instant;

/**
 * Something that happened to a model: a registry change (registered, alias moved or deleted,
 * archived, deleted) or a runtime change (loaded, load failed, swapped, unloaded). Delivered to
 * {@link LifecycleListener}s and to metric sinks. Version numbers of {@code 0} mean "none".
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
      Instant time, String model, String alias, long fromVersion, long toVersion, String actor, String reason)
      implements LifecycleEvent {}

  /** An alias was deleted. @param time when @param model model @param alias alias @param fromVersion its last target @param actor who */
  record AliasDeleted(Instant time, String model, String alias, long fromVersion, String actor)
      implements LifecycleEvent {}

  /** A version was archived. @param time when @param model model @param version version @param actor who */
  record VersionArchived(Instant time, String model, long version, String actor) implements LifecycleEvent {}

  /** A version was deleted. @param time when @param model model @param version version @param actor who */
  record VersionDeleted(Instant time, String model, long version, String actor) implements LifecycleEvent {}

  /**
   * A version was loaded into an inference session and is ready to serve.
   *
   * @param time when
   * @param model model
   * @param version version
   * @param loadNanos time spent verifying, loading and warming up
   */
  record ModelLoaded(Instant time, String model, long version, long loadNanos) implements LifecycleEvent {}

  /**
   * A version could not be loaded; whatever served before keeps serving.
   *
   * @param time when
   * @param model model
   * @param version version
   * @param cause why
   */
  record ModelLoadFailed(Instant time, String model, long version, Throwable cause) implements LifecycleEvent {}

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

  /** A loaded version's session was closed. @param time when @param model model @param version version */
  record ModelUnloaded(Instant time, String model, long version) implements LifecycleEvent {}
}
