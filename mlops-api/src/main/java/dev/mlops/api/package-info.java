/**
 * The mlops API: {@link dev.mlops.api.ModelRegistry}, {@link dev.mlops.api.ModelRef}, {@link
 * dev.mlops.api.ModelVersion}, {@link dev.mlops.api.Predictor}, {@link dev.mlops.api.Codec} and the
 * {@link dev.mlops.api.MlopsException} family. This module has no dependencies; the runtime
 * implements it.
 */
package dev.mlops.api;
