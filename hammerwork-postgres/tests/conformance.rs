//! The conformance suite on PostgreSQL: each test gets a schema of its own.

use hammerwork_postgres::PostgresStorage;
use hammerwork_testkit::provision::{postgres_url, unique_name, TestDb};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

async fn storage(test: &str) -> TestDb<PostgresStorage> {
    let url = postgres_url();
    let schema = unique_name(test);
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect to HAMMERWORK_POSTGRES_URL");
    sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("create schema");
    let options: PgConnectOptions = url.parse().expect("valid postgres URL");
    let pool = PgPoolOptions::new()
        .max_connections(12)
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .expect("connect test pool");
    let storage = PostgresStorage::from_pool(pool.clone())
        .await
        .expect("storage");
    storage.migrate().await.expect("migrate");
    let drop_schema = schema.clone();
    TestDb::new(storage, schema, async move {
        pool.close().await;
        sqlx::raw_sql(&format!("DROP SCHEMA {drop_schema} CASCADE"))
            .execute(&admin)
            .await
            .expect("drop schema");
        admin.close().await;
    })
}

hammerwork_testkit::conformance_tests!(storage);
