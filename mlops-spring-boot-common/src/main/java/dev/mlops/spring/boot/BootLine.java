package dev.mlops.spring.boot;

import org.springframework.boot.SpringBootVersion;
import org.springframework.util.ClassUtils;

/**
 * Which Spring Boot line (3 or 4) the application runs on, and the startup check that an mlops
 * auto-configuration module matches it. Spring Boot 4 moved health, metrics and other
 * auto-configuration into new modules and packages, so each line has its own mlops module; this
 * check fails startup with the name of the right one instead of a {@code NoClassDefFoundError}.
 */
public final class BootLine {

  /** A class that exists from Spring Boot 4.0 on and not before. */
  static final String BOOT4_MARKER = "org.springframework.boot.EnvironmentPostProcessor";

  private BootLine() {}

  /** The major version of the Spring Boot on this class loader's class path: 3 or 4 (or later). */
  public static int detect(ClassLoader classLoader) {
    return ClassUtils.isPresent(BOOT4_MARKER, classLoader) ? 4 : 3;
  }

  /**
   * Fails unless the running Spring Boot is of line {@code expected}.
   *
   * @param found the running line ({@link #detect})
   * @param expected the line the module is built for
   * @param module the module making the check, e.g. {@code mlops-spring-boot-autoconfigure}
   * @param rightModules the starter (and auto-configuration) for each line, by line: index 0 for
   *     Boot 3, index 1 for Boot 4
   * @throws MlopsBootLineException if the lines differ
   */
  public static void require(int found, int expected, String module, String... rightModules) {
    if (found == expected) {
      return;
    }
    String version = SpringBootVersion.getVersion();
    String right = found >= 4 ? rightModules[1] : rightModules[0];
    throw new MlopsBootLineException(
        module
            + " is built for Spring Boot "
            + expected
            + ".x but the application runs Spring Boot "
            + (version != null ? version : found + ".x")
            + "; depend on "
            + right
            + " instead");
  }

  /** The running Spring Boot is of the other line than the mlops module on the class path. */
  public static final class MlopsBootLineException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    MlopsBootLineException(String message) {
      super(message);
    }
  }
}
