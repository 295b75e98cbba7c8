/** Lifecycle events of models, versions, aliases and loaded sessions. */
package dev.mlops.api.event;
