package dev.mlops.api.spi;

/**
 * What an alias points at in a {@link ModelStore}.
 *
 * @param version the version it points at; 0 after a deletion
 * @param revision how many times the alias has been changed, 1 after it was first created; a store
 *     bumps it on every move and deletion, and an alias deleted and created again continues the
 *     count, so a revision never repeats and a watcher can tell a change it has seen from a new one
 */
public record AliasTarget(long version, long revision) {
  /** Validates. */
  public AliasTarget {
    if (version < 0 || revision < 1) {
      throw new IllegalArgumentException(
          "version must be >= 0 and revision >= 1: " + version + ", " + revision);
    }
  }
}
