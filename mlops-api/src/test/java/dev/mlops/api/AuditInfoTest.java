package dev.mlops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The registry's own actor name is refused to callers, in any case and with whitespace. */
class AuditInfoTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "mlops",
        "MLOPS",
        "Mlops",
        " mlops ",
        "\tmlops\n",
        "\uff4d\uff4c\uff4f\uff50\uff53"
      })
  void theRegistrysActorIsReservedInAnyCaseAndWithSurroundingWhitespace(String actor) {
    assertThatThrownBy(() -> AuditInfo.by(actor, "pose as the registry"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("actor '" + actor + "' is reserved")
        .hasMessageContaining("expected the name of a user, service account or pipeline");
    assertThatThrownBy(() -> new AuditInfo(actor, "")).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"mlops-ci", "alice", "mlopsbot", "ml ops"})
  void otherActorsAreAccepted(String actor) {
    assertThat(AuditInfo.by(actor, "").actor()).isEqualTo(actor);
  }
}
