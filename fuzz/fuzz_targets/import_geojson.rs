//! Fuzz target: any bytes as a `.geojson` export — the GeoJSON reader (property columns,
//! point geometries) and the automatic mapping. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use teplokarta::data::import::parse::Mapping;
use teplokarta::data::import::read::{ReadOptions, Table};

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("teplokarta-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let path = dir.join("input.geojson");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(mut table) = Table::open(&path, &ReadOptions::default()) else {
        return;
    };
    let headers = table.headers().to_vec();
    let mut rows = Vec::new();
    while let Some(row) = table.next_row() {
        let Ok(row) = row else { break };
        rows.push(row.fields);
    }
    let _ = Mapping::auto_with_samples(&headers, &rows);
});
