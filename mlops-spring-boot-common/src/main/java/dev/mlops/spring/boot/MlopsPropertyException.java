package dev.mlops.spring.boot;

import dev.mlops.api.MlopsException;
import java.util.Objects;

/**
 * An {@code mlops.*} property whose value cannot be used. Thrown while the beans are made, so the
 * application fails to start; {@link MlopsFailureAnalyzer} turns it into Boot's failure report,
 * which names the property, the value found and the values accepted.
 */
public final class MlopsPropertyException extends MlopsException {
  private static final long serialVersionUID = 1L;

  private final String property;
  private final String value;
  private final String accepted;

  /**
   * A bad property.
   *
   * @param property the full key, e.g. {@code mlops.predictors.cancer.model}
   * @param value the value found (null when missing)
   * @param accepted what the property accepts
   * @param cause why the value was refused, or null
   */
  public MlopsPropertyException(String property, String value, String accepted, Throwable cause) {
    super(message(property, value, accepted, cause), cause);
    this.property = Objects.requireNonNull(property, "property");
    this.value = value;
    this.accepted = Objects.requireNonNull(accepted, "accepted");
  }

  private static String message(String property, String value, String accepted, Throwable cause) {
    return (value == null ? property + " is not set" : property + "=" + value + " is invalid")
        + (cause == null || cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")")
        + "; expected "
        + accepted;
  }

  /** The property's full key. */
  public String property() {
    return property;
  }

  /** The value found, or null when the property is missing. */
  public String value() {
    return value;
  }

  /** What the property accepts. */
  public String accepted() {
    return accepted;
  }
}
