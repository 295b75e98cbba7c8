package dev.mlops.spring.boot;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains a startup that failed because the mlops module does not match the Boot line. */
public final class BootLineFailureAnalyzer
    extends AbstractFailureAnalyzer<BootLine.MlopsBootLineException> {

  /** For Spring Boot's factory loader. */
  public BootLineFailureAnalyzer() {}

  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, BootLine.MlopsBootLineException cause) {
    return new FailureAnalysis(
        cause.getMessage() + ".",
        "Use mlops-spring-boot-starter with Spring Boot 4.x and mlops-spring-boot3-starter with"
            + " Spring Boot 3.5.x.",
        cause);
  }
}
