package dev.mlops.micronaut;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.micronaut.context.ApplicationContext;
import io.micronaut.context.exceptions.ConfigurationException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigurationFailureTest {

  @TempDir Path dir;

  /** Starts a context that must fail; returns the ConfigurationException in the cause chain. */
  private static ConfigurationException startupFailure(Map<String, Object> properties) {
    Throwable t = catchThrowable(() -> ApplicationContext.run(properties).close());
    assertThat(t).as("startup with %s", properties).isNotNull();
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ConfigurationException e) {
        return e;
      }
    }
    throw new AssertionError("no ConfigurationException in the causes of " + t, t);
  }

  private Map<String, Object> valid() {
    Map<String, Object> p = new HashMap<>();
    p.put("mlops.registry.url", TestRegistry.create(dir).toString());
    p.put("mlops.predictors.cancer.model", "models:/cancer@production");
    return p;
  }

  @Test
  void aBadSwapModeNamesThePropertyAndTheAcceptedValues() {
    Map<String, Object> p = valid();
    p.put("mlops.predictors.cancer.swap-mode", "fast");
    assertThat(startupFailure(p))
        .hasMessage(
            "mlops.predictors.cancer.swap-mode: expected one of availability-preserving,"
                + " resource-preserving but found 'fast'");
  }

  @Test
  void aBadDurationNamesTheProperty() {
    Map<String, Object> p = valid();
    p.put("mlops.predictors.cancer.deadline", "soon");
    assertThat(startupFailure(p))
        .hasMessage(
            "mlops.predictors.cancer.deadline: expected a duration such as 250ms, 5s, 2m, 1h or"
                + " PT5S but found 'soon'");
  }

  @Test
  void badShadowOptionsNameTheProperty() {
    Map<String, Object> p = valid();
    p.put("mlops.shadow-capacity", "0");
    assertThat(startupFailure(p))
        .hasMessage("mlops.shadow-capacity: expected a number >= 1 but found 0");
    p = valid();
    p.put("mlops.shadow-deadline", "0s");
    assertThat(startupFailure(p))
        .hasMessage("mlops.shadow-deadline: expected a duration above zero but found '0s'");
  }

  @Test
  void aBadSessionOptionNamesTheNestedProperty() {
    Map<String, Object> p = valid();
    p.put("mlops.session.optimization-level", "max");
    assertThat(startupFailure(p))
        .hasMessage(
            "mlops.session.optimization-level: expected one of none, basic, extended, all but"
                + " found 'max'");
  }

  @Test
  void aBadModelReferenceNamesTheProperty() {
    Map<String, Object> p = valid();
    p.put("mlops.predictors.cancer.model", "cancer@production");
    assertThat(startupFailure(p).getMessage()).startsWith("mlops.predictors.cancer.model: ");
  }

  @Test
  void aModelThatIsNotThereNamesTheEntryAndWhatExists() {
    Map<String, Object> p = valid();
    p.put("mlops.predictors.cancer.model", "models:/cancer/9");
    assertThat(startupFailure(p))
        .hasMessage(
            "mlops.predictors.cancer: cannot serve models:/cancer/9: model 'cancer' has no version"
                + " 9; versions: [1, 2]");
  }

  @Test
  void aMissingRegistryUrlSaysWhatIsExpected() {
    Map<String, Object> p = valid();
    p.remove("mlops.registry.url");
    assertThat(startupFailure(p))
        .hasMessage(
            "mlops.registry.url: expected a directory (/var/lib/models), a"
                + " postgresql://host:port/database URI, or postgresql: to use the application's"
                + " DataSource, but found none");
  }

  @Test
  void anUnknownRegistrySchemeIsRefused() {
    Map<String, Object> p = valid();
    p.put("mlops.registry.url", "s3://bucket/models");
    assertThat(startupFailure(p))
        .hasMessage(
            "mlops.registry.url: expected a directory, a file: URI, a"
                + " postgresql://host:port/database URI, or postgresql: but found"
                + " 's3://bucket/models'");
  }

  @Test
  void batchingPropertiesWithoutBatchingEnabledAreRefused() {
    Map<String, Object> p = valid();
    p.put("mlops.predictors.cancer.batching.max-batch-size", "32");
    assertThat(startupFailure(p))
        .hasMessage(
            "mlops.predictors.cancer.batching.enabled: expected true when other batching"
                + " properties are set, but found false");
  }
}
