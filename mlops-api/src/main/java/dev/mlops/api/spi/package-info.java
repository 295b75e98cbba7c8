/**
 * Service-provider interfaces: {@link dev.mlops.api.spi.InferenceEngine} (ONNX Runtime ships;
 * others can plug in) and {@link dev.mlops.api.spi.MetricSink}. Implementations are found with
 * {@link java.util.ServiceLoader} and can always be injected through the runtime's builder.
 */
package dev.mlops.api.spi;
