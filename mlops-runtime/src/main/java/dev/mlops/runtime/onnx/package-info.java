/** The ONNX Runtime inference engine. */
package dev.mlops.runtime.onnx;
