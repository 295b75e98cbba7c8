package dev.mlops.runtime.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The warning before ONNX Runtime loads in a process whose command line could crash it. */
class CommandLineCheckTest {

  @Test
  void aLongCommandLineGetsAWarningNamingTheFixAndAShortOneNone() {
    assertThat(CommandLineCheck.warning(CommandLineCheck.WARN_BYTES)).isEmpty();
    assertThat(CommandLineCheck.warning(3_981))
        .get()
        .asString()
        .contains("3981 bytes long", "SIGSEGV", "argument file", "CLASSPATH");
  }

  @Test
  void thisProcessCommandLineIsMeasuredOnLinux() {
    if (System.getProperty("os.name").startsWith("Linux")) {
      assertThat(CommandLineCheck.commandLineBytes())
          .get()
          .satisfies(n -> assertThat(n).isPositive());
    } else {
      assertThat(CommandLineCheck.commandLineBytes()).isEmpty();
    }
  }
}
