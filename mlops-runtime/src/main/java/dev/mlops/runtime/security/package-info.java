/**
 * Safe loading: signed file manifests ({@link dev.mlops.runtime.security.Manifest}, {@link
 * dev.mlops.runtime.security.ManifestSigner}, {@link dev.mlops.runtime.security.TrustedKeys},
 * {@link dev.mlops.runtime.security.SignaturePolicy}), the external-data check that runs before
 * ONNX Runtime reads a model ({@link dev.mlops.runtime.security.ExternalDataGuard}). Validation of
 * new artifacts in a child JVM is in {@code dev.mlops.runtime.validation}. See {@code SECURITY.md}
 * for the threat model.
 */
package dev.mlops.runtime.security;
