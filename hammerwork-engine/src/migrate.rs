//! Schema migrations, for every SQL driver: [`Engine::migrate`].

use chrono::Utc;
use hammerwork_api::driver::{Driver, Migrations, Param, Transaction};
use hammerwork_api::{Error, Result};

use crate::Engine;

impl<D: Driver> Engine<D> {
    /// Creates or upgrades the driver's schema
    /// ([`Driver::migrations`]): in one transaction of the driver, its
    /// setup script (which waits for any other migrator and creates
    /// `hammerwork_migrations`), then each migration not recorded there,
    /// recorded as it is applied. Idempotent and safe to run from several
    /// processes at once; where DDL is transactional a failure leaves the
    /// schema as it was. Nothing to do for a driver without a schema.
    pub async fn migrate(&self) -> Result<()> {
        let schema = self.driver().migrations();
        if schema.steps.is_empty() {
            return Ok(());
        }
        let mut tx = self.driver().begin().await?;
        apply_migrations(&mut tx, schema).await?;
        tx.commit().await
    }
}

/// Applies `schema` in `tx`: its setup script, then each migration not
/// recorded in `hammerwork_migrations`, recording each as it goes. For
/// [`Engine::migrate`], and for a backend that runs it under a lock of its
/// own (MySQL, whose migration lock belongs to a session).
pub async fn apply_migrations<T: Transaction>(tx: &mut T, schema: Migrations) -> Result<()> {
    tx.run_script(schema.setup).await?;
    let applied = tx.rows("applied_migrations", &[], |row| row.int("version"));
    let applied = applied.await?;
    for &(version, name, sql) in schema.steps {
        if applied.contains(&Some(version)) {
            continue;
        }
        tracing::info!(version, name, "applying hammerwork migration");
        tx.run_script(sql).await.map_err(|e| Error::Migration {
            version,
            source: Box::new(e),
        })?;
        let record = [
            Param::from(version),
            Param::from(name),
            Param::from(Utc::now()),
        ];
        tx.run("record_migration", &record).await?;
    }
    Ok(())
}
