package dev.mlops.runtime.validation;

import java.time.Duration;

/** Child-JVM validators whose child misbehaves on purpose, for tests in other packages. */
public final class TestValidators {

  private TestValidators() {}

  /**
   * A validator whose child dies at once as a native crash would: {@code Runtime.halt(134)}
   * (SIGABRT's code).
   */
  public static ChildJvmValidator crashing() {
    return ChildJvmValidator.builder().mainClass(HaltingMain.class.getName()).build();
  }

  /** A validator whose child never finishes, with a short timeout. */
  public static ChildJvmValidator hanging(Duration timeout) {
    return ChildJvmValidator.builder()
        .mainClass(SleepingMain.class.getName())
        .timeout(timeout)
        .build();
  }

  /** Stands in for a model that crashes ONNX Runtime's native code. */
  public static final class HaltingMain {
    private HaltingMain() {}

    /** Prints like a dying native library, then halts. @param args ignored */
    public static void main(String[] args) {
      System.out.println(
          "# A fatal error has been detected by the Java Runtime Environment: SIGSEGV (simulated)");
      System.out.flush();
      Runtime.getRuntime().halt(134);
    }
  }

  /** Stands in for a model whose loading never ends. */
  public static final class SleepingMain {
    private SleepingMain() {}

    /** Sleeps far longer than any test timeout. @param args ignored */
    public static void main(String[] args) throws InterruptedException {
      Thread.sleep(600_000);
    }
  }
}
