/**
 * The registry on PostgreSQL (preview): {@link dev.mlops.registry.postgres.PostgresModelStore}, a
 * {@link dev.mlops.api.spi.ModelStore} that a fleet of instances shares, with its own schema
 * migrations.
 */
package dev.mlops.registry.postgres;
