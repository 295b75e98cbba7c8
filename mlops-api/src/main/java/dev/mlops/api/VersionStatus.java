package dev.mlops.api;

/** Lifecycle state of a model version. */
public enum VersionStatus {
  /** Registered, verified and available. */
  READY,
  /** Kept for the record and still loadable by number, but skipped by {@code latest}. */
  ARCHIVED
}
