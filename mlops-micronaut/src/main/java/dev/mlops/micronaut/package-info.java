/**
 * Micronaut 4 integration of mlops: {@link dev.mlops.micronaut.MlopsFactory} makes the runtime and
 * one named {@code Predictor} per {@code mlops.predictors.<name>} entry ({@link
 * dev.mlops.micronaut.PredictorProperties}); {@link dev.mlops.micronaut.PredictorHealthIndicator}
 * and {@link dev.mlops.micronaut.RegistryFeedHealthIndicator} report health; {@link
 * dev.mlops.micronaut.MlopsEndpoint} is the {@code /mlops} management endpoint; {@link
 * dev.mlops.micronaut.MlopsMetricsFactory} binds the meters when micronaut-micrometer is present.
 */
package dev.mlops.micronaut;
