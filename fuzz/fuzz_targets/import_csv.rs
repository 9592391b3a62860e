//! Fuzz target: any bytes as a `.csv` export — encoding and delimiter detection, the CSV
//! reader, the automatic mapping and every value parser on every field. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use teplokarta::data::import::parse::{
    Mapping, normalize_status, parse_degrees, parse_lat_lon, parse_timestamp_text,
};
use teplokarta::data::import::read::{ReadOptions, Table};

fn file_for(data: &[u8], extension: &str) -> Option<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("teplokarta-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("input.{extension}"));
    std::fs::write(&path, data).ok()?;
    Some(path)
}

fuzz_target!(|data: &[u8]| {
    let Some(path) = file_for(data, "csv") else {
        return;
    };
    let Ok(mut table) = Table::open(&path, &ReadOptions::default()) else {
        return;
    };
    let headers = table.headers().to_vec();
    let mut rows = Vec::new();
    while let Some(row) = table.next_row() {
        let Ok(row) = row else { break };
        for field in &row.fields {
            let _ = parse_timestamp_text(field);
            let _ = parse_degrees(field);
            let _ = parse_lat_lon(field);
            let _ = normalize_status(field);
        }
        rows.push(row.fields);
        let _ = table.progress();
    }
    let mapping = Mapping::auto_with_samples(&headers, &rows);
    let _ = mapping.resolve(&headers);
});
