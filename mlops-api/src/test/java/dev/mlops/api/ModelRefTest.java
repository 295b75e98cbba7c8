package dev.mlops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelRefTest {

  @Test
  void parsesTheThreeMlflowForms() {
    ModelRef v = ModelRef.parse("models:/fraud/3");
    assertThat(v.name()).isEqualTo("fraud");
    assertThat(v.version()).isEqualTo(OptionalLong.of(3));
    assertThat(v.alias()).isEmpty();
    assertThat(v.isLatest()).isFalse();

    ModelRef a = ModelRef.parse("models:/fraud@production");
    assertThat(a.alias()).contains("production");
    assertThat(a.version()).isEmpty();

    ModelRef l = ModelRef.parse("models:/fraud.v2-x_y");
    assertThat(l.isLatest()).isTrue();
    assertThat(l.name()).isEqualTo("fraud.v2-x_y");
  }

  @ParameterizedTest
  @ValueSource(strings = {"models:/fraud/3", "models:/fraud@production", "models:/fraud"})
  void toStringIsTheCanonicalFormAndRoundTrips(String uri) {
    assertThat(ModelRef.parse(uri).toString()).isEqualTo(uri);
    assertThat(ModelRef.parse(uri))
        .isEqualTo(ModelRef.parse(uri))
        .hasSameHashCodeAs(ModelRef.parse(uri));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "fraud/3",
        "models:fraud",
        "models:/",
        "models:/fraud/0",
        "models:/fraud/-1",
        "models:/fraud/x",
        "models:/fraud/3@prod",
        "models:/fraud@",
        "models:/fraud@1abc",
        "models:/../etc",
        "models:/a b",
        "models:/fraud/3/4",
        "models:/fraud/99999999999999999999"
      })
  void rejectsMalformedReferencesWithTheAcceptedForms(String uri) {
    assertThatThrownBy(() -> ModelRef.parse(uri))
        .isInstanceOf(InvalidModelRefException.class)
        .hasMessageContaining("'");
  }

  @Test
  void messageNamesTheProblemAndTheAcceptedForms() {
    assertThatThrownBy(() -> ModelRef.parse("models:/fraud/x"))
        .hasMessage(
            "invalid model reference 'models:/fraud/x': the version 'x' is not a positive integer;"
                + " expected models:/<name>/<version>, models:/<name>@<alias> or models:/<name>");
  }

  @ParameterizedTest
  @ValueSource(strings = {"latest", "Latest", "LATEST"})
  void latestIsNotAnAliasName(String alias) {
    assertThatThrownBy(() -> ModelRef.parse("models:/fraud@" + alias))
        .isInstanceOf(InvalidModelRefException.class)
        .hasMessage(
            "alias '"
                + alias
                + "' is reserved: models:/<name> already means the latest version;"
                + " choose another alias name");
    assertThatThrownBy(() -> ModelRef.checkAlias(alias))
        .isInstanceOf(InvalidModelRefException.class);
    assertThat(ModelRef.alias("fraud", "latest-stable").alias()).contains("latest-stable");
  }

  @ParameterizedTest
  @ValueSource(strings = {"CON", "com1", "nul.txt", "model."})
  void refusesWindowsDeviceNamesAndTrailingDotsAsModelNames(String name) {
    assertThatThrownBy(() -> ModelRef.version(name, 1))
        .isInstanceOf(InvalidModelRefException.class)
        .hasMessageContaining("model name '" + name + "' is refused")
        .hasMessageContaining("expected a name whose part before the first '.'");
  }

  @Test
  void refusesAWindowsDeviceNameAsAlias() {
    assertThatThrownBy(() -> ModelRef.alias("fraud", "aux"))
        .isInstanceOf(InvalidModelRefException.class)
        .hasMessageContaining("alias 'aux' is refused")
        .hasMessageContaining("device name AUX");
  }
}
