/**
 * The mlops runtime. Start at {@link dev.mlops.runtime.Mlops}: it wires the embedded registry
 * ({@link dev.mlops.runtime.local.LocalModelRegistry}), the ONNX Runtime engine ({@link
 * dev.mlops.runtime.onnx.OnnxRuntimeEngine}), the shared session cache and the metric sinks, and
 * makes predictors that follow aliases.
 */
package dev.mlops.runtime;
