//! The conformance suite on MySQL / MariaDB: each test gets a database of its own.

use hammerwork_mysql::MySqlStorage;
use hammerwork_testkit::provision::{mysql_url, unique_name, TestDb};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};

async fn storage(test: &str) -> TestDb<MySqlStorage> {
    let url = mysql_url();
    let database = unique_name(test);
    let admin = MySqlPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect to HAMMERWORK_MYSQL_URL");
    sqlx::raw_sql(&format!("CREATE DATABASE {database}"))
        .execute(&admin)
        .await
        .expect("create database");
    let options: MySqlConnectOptions = url.parse().expect("valid mysql URL");
    let pool = MySqlPoolOptions::new()
        .max_connections(12)
        .connect_with(options.database(&database))
        .await
        .expect("connect test pool");
    let storage = MySqlStorage::from_pool(pool.clone())
        .await
        .expect("storage");
    storage.migrate().await.expect("migrate");
    let drop_database = database.clone();
    TestDb::new(storage, database, async move {
        pool.close().await;
        sqlx::raw_sql(&format!("DROP DATABASE {drop_database}"))
            .execute(&admin)
            .await
            .expect("drop database");
        admin.close().await;
    })
}

hammerwork_testkit::conformance_tests!(storage);
