//! What the benchmarks share: the demo databases they run on.

use std::path::PathBuf;

use teplokarta::data::{DemoConfig, generate_demo};

/// The demo database of `rows` appeals in `target/bench-data/`, generated on first use.
pub fn demo(rows: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let path = dir.join(format!("demo-{rows}.sqlite"));
    if !path.is_file() {
        let config = DemoConfig {
            rows,
            ..DemoConfig::default()
        };
        if let Err(err) = generate_demo(&config, &path) {
            panic!(
                "cannot write the benchmark database {}: {err}",
                path.display()
            );
        }
    }
    path
}
