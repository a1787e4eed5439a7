//! The conformance runner: wire bytes and a manifest of expected verdicts.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use bytes::Bytes;
use sip_message::{Message, ParseError};

/// Passed and failed rows.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Totals {
    pub(crate) passed: usize,
    pub(crate) failed: usize,
}

impl Totals {
    pub(crate) fn add(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// Both depths of checking: what `sipkit parse` and a UAS run.
fn verdict(bytes: Vec<u8>) -> Result<Message, ParseError> {
    let m = Message::parse(Bytes::from(bytes))?;
    m.validate()?;
    Ok(m)
}

/// The rows of `dir/MANIFEST.tsv`, each with the cells of `columns` in that order.
pub(crate) fn manifest_rows(dir: &Path, columns: &[&str]) -> Result<Vec<Vec<String>>, String> {
    let manifest = dir.join("MANIFEST.tsv");
    let text = fs::read_to_string(&manifest).map_err(|e| format!("reading {}: {e}", manifest.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty manifest")?.split('\t').collect();
    let col: HashMap<&str, usize> = header.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let wanted: Vec<usize> = columns
        .iter()
        .map(|name| col.get(name).copied().ok_or_else(|| format!("manifest has no `{name}` column")))
        .collect::<Result<_, _>>()?;
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            wanted.iter().map(|&i| cells.get(i).copied().unwrap_or("").to_owned()).collect()
        })
        .collect())
}

/// Runs every row of `dir/MANIFEST.tsv`, printing one line each.
pub(crate) fn run(dir: &Path) -> Result<Totals, String> {
    let rows = manifest_rows(dir, &["file", "parse", "parse_status"])?;
    println!("== {}", dir.display());
    let mut totals = Totals::default();
    for row in &rows {
        let (file, want_parse, want_status) = (row[0].as_str(), row[1].as_str(), row[2].as_str());
        let bytes = fs::read(dir.join(file)).map_err(|e| format!("reading {file}: {e}"))?;
        let result = verdict(bytes);
        let (got_parse, got_status, detail) = match &result {
            Ok(_) => ("accept", "-".to_string(), String::new()),
            Err(e) => ("reject", e.status().map_or("-".to_string(), |s| s.as_u16().to_string()), e.to_string()),
        };
        let pass = got_parse == want_parse && (want_parse == "accept" || got_status == want_status);
        if pass {
            totals.passed += 1;
        } else {
            totals.failed += 1;
        }
        println!(
            "{} {file:<40} want {want_parse}/{want_status:<3} got {got_parse}/{got_status:<3} {detail}",
            if pass { "PASS" } else { "FAIL" }
        );
    }
    Ok(totals)
}
