package dev.mlops.spring.boot.contract;

import dev.mlops.test.PostgresServer;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/** Databases on the test kit's embedded PostgreSQL server ({@link PostgresServer}). */
final class Postgres {

  private Postgres() {}

  /** A data source on a new, empty database. */
  static DataSource newDatabase() {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(PostgresServer.jdbcUrl(PostgresServer.newDatabase("boot")));
    return ds;
  }
}
