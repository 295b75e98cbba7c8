package dev.mlops.micronaut;

import dev.mlops.api.Predictor;
import io.micronaut.context.BeanContext;
import io.micronaut.context.annotation.Context;
import io.micronaut.inject.qualifiers.Qualifiers;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves the predictor of every {@code mlops.predictors} entry when the context starts, so that
 * each is loaded and warm before the first request and a bad entry fails the startup. It resolves
 * each by name, so a predictor the application replaced is the one resolved and the default one is
 * never built.
 */
@Context
final class PredictorStartup {

  private static final Logger LOG = LoggerFactory.getLogger(PredictorStartup.class);

  PredictorStartup(BeanContext context, List<PredictorProperties> entries) {
    for (PredictorProperties entry : entries) {
      Predictor<?, ?> p = context.getBean(Predictor.class, Qualifiers.byName(entry.getName()));
      LOG.info(
          "predictor {} serves {} (version {})",
          entry.getName(),
          p.target(),
          p.servingVersion().map(v -> Long.toString(v.version())).orElse("none"));
    }
  }
}
