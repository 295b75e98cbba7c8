/**
 * Trial loads of new artifacts in a child JVM ({@link
 * dev.mlops.runtime.validation.ChildJvmValidator}, run as {@link
 * dev.mlops.runtime.validation.ValidateMain}), so that a model that crashes the native runtime
 * takes down a throw-away process instead of the service. See {@code SECURITY.md}.
 */
package dev.mlops.runtime.validation;
