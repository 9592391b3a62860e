//! PostgreSQL fixtures of the tests that need a server (`TEPLOKARTA_PG_URL`): the URL, an admin
//! connection, and a fresh schema dropped with everything in it at the end of a test.

use std::sync::atomic::{AtomicU32, Ordering};

/// The server the tests use (`.ci/run` starts one).
pub fn pg_url() -> String {
    std::env::var("TEPLOKARTA_PG_URL").unwrap_or_else(|_| {
        panic!(
            "TEPLOKARTA_PG_URL is not set: these tests need a PostgreSQL server, e.g. \
             TEPLOKARTA_PG_URL=postgres://user:password@127.0.0.1:5432/db (see docs/postgres.md; \
             .ci/run starts one)"
        )
    })
}

/// A plain connection for setting up and checking tables.
pub fn admin() -> postgres::Client {
    postgres::Client::connect(&pg_url(), postgres::NoTls).expect("connect to TEPLOKARTA_PG_URL")
}

/// A fresh schema, dropped with everything in it at the end of the test.
pub struct Schema {
    pub name: String,
    pub client: postgres::Client,
}

impl Schema {
    /// A schema named `{prefix}_{process}_{n}_{nanos}`.
    pub fn new(prefix: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{prefix}_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let mut client = admin();
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .unwrap();
        Self { name, client }
    }

    /// `table` in this schema.
    pub fn table(&self, table: &str) -> String {
        format!("{}.{table}", self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = self
            .client
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
    }
}
