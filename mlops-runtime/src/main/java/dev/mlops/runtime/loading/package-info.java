/**
 * What every load of a version does before it serves, whoever loads it (the session cache, the
 * registry's checks, a validating child JVM): check inputs against a signature ({@link
 * dev.mlops.runtime.loading.InputValidator}), build synthetic inputs ({@link
 * dev.mlops.runtime.loading.SyntheticInputs}), warm a session up ({@link
 * dev.mlops.runtime.loading.WarmUp}) and store input examples ({@link
 * dev.mlops.runtime.loading.TensorIo}). Internal to the runtime: applications do not call it.
 */
package dev.mlops.runtime.loading;
