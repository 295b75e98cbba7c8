package dev.mlops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Names that become directories in a registry: Windows device names (with any extension, in any
 * case) and trailing dots are refused in model names and aliases, with the rule in the message.
 */
class PortableNamesTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "CON",
        "con",
        "Con",
        "PRN",
        "AUX",
        "NUL",
        "nul",
        "COM0",
        "COM1",
        "com9",
        "LPT0",
        "lpt5",
        "LPT9",
        "con.onnx",
        "NUL.txt",
        "nul.tar.gz",
        "COM1.onnx",
        "aux.",
        "model.",
        "model.."
      })
  void modelNamesThatAreDevicesOrEndInADotAreRefusedNamingTheRule(String name) {
    assertThatThrownBy(() -> ModelRef.checkName(name))
        .isInstanceOf(InvalidModelRefException.class)
        .hasMessageContaining("model name '" + name + "' is refused")
        .hasMessageContaining("expected a name whose part before the first '.' is none of");
    assertThatThrownBy(() -> ModelRef.latest(name)).isInstanceOf(InvalidModelRefException.class);
    assertThatThrownBy(() -> ModelRef.parse("models:/" + name + "/1"))
        .isInstanceOf(InvalidModelRefException.class);
  }

  @Test
  void theMessageSaysWhatWasFound() {
    assertThatThrownBy(() -> ModelRef.checkName("nul.txt"))
        .hasMessageContaining("'nul', is the device name NUL");
    assertThatThrownBy(() -> ModelRef.checkName("model."))
        .hasMessageContaining("it ends in '.'")
        .hasMessageContaining("the same file as 'model'");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "console",
        "nullable",
        "com10",
        "lpt",
        "com",
        "auxiliary",
        "CONx.onnx",
        "fraud.v2",
        "a.b",
        "prn-model",
        "nul_1"
      })
  void namesThatOnlyLookLikeDevicesAreAccepted(String name) {
    ModelRef.checkName(name);
    assertThat(ModelRef.latest(name).name()).isEqualTo(name);
    assertThat(ArtifactFile.unportableReason(name)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"aux", "AUX", "con", "nul", "Com1", "lpt9", "prn"})
  void aliasesThatAreDevicesAreRefused(String alias) {
    assertThatThrownBy(() -> ModelRef.checkAlias(alias))
        .isInstanceOf(InvalidModelRefException.class)
        .hasMessageContaining("alias '" + alias + "' is refused")
        .hasMessageContaining("Windows reserves");
    assertThatThrownBy(() -> ModelRef.parse("models:/fraud@" + alias))
        .isInstanceOf(InvalidModelRefException.class);
  }
}
