package dev.mlops.spring.boot;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a startup that failed on an {@code mlops.*} property: the property, the value found, the
 * values accepted and what to change. Registered in {@code META-INF/spring.factories}.
 */
public final class MlopsFailureAnalyzer extends AbstractFailureAnalyzer<MlopsPropertyException> {

  /** For Spring Boot's factory loader. */
  public MlopsFailureAnalyzer() {}

  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, MlopsPropertyException cause) {
    String description =
        cause.value() == null
            ? "The property '" + cause.property() + "' is not set."
            : "The property '"
                + cause.property()
                + "' has the value '"
                + cause.value()
                + "', which cannot be used"
                + (cause.getCause() == null || cause.getCause().getMessage() == null
                    ? "."
                    : ": " + cause.getCause().getMessage());
    String action =
        "Set '"
            + cause.property()
            + "' to "
            + cause.accepted()
            + " in the application's configuration.";
    return new FailureAnalysis(description, action, cause);
  }
}
