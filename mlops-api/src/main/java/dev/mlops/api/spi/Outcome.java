package dev.mlops.api.spi;

/** How a prediction ended. */
public enum Outcome {
  /** A result was returned. */
  SUCCESS,
  /** The input did not fit the signature. */
  INVALID_INPUT,
  /** The engine failed. */
  ERROR,
  /** The deadline passed. */
  TIMEOUT,
  /** A bounded queue was full. */
  OVERLOADED;

  /** Lower-case name used as a metric tag value. */
  public String tag() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
