//! Summarises criterion's results for the message benches: ns per message, ours against rsip.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

/// The benched messages, in report order.
const MESSAGES: [&str; 6] = ["invite", "ok_200", "register", "options", "ringing_180", "tortuous"];

/// The median time in ns criterion measured for `group/function/message`.
fn median_ns(dir: &Path, group: &str, function: &str, message: &str) -> Result<f64, String> {
    median_at(&dir.join(group).join(function).join(message))
}

/// The median time in ns of the criterion result in `bench_dir`.
fn median_at(bench_dir: &Path) -> Result<f64, String> {
    let path = bench_dir.join("new/estimates.json");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    json["median"]["point_estimate"].as_f64().ok_or_else(|| format!("{}: no median", path.display()))
}

/// The median time in ns per element of the criterion result in `bench_dir`: the time of
/// one iteration over the elements the bench's throughput says one iteration handles (a
/// batch of calls, transactions or pipelined messages).
fn median_per_element(bench_dir: &Path) -> Result<f64, String> {
    let path = bench_dir.join("new/benchmark.json");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let elements = json["throughput"]["Elements"]
        .as_f64()
        .filter(|&n| n > 0.0)
        .ok_or_else(|| format!("{}: no throughput in elements", path.display()))?;
    Ok(median_at(bench_dir)? / elements)
}

/// The benched session descriptions, in report order.
const DESCRIPTIONS: [&str; 2] = ["audio_offer", "webrtc_offer"];

/// A table of sip-sdp against webrtc-sdp per description.
pub(crate) fn sdp_table(dir: &Path) -> Result<String, String> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13} {:>12} {:>12} {:>12} {:>10} {:>14} {:>16}",
        "description", "sip-sdp", "sip-sdp typed", "webrtc-sdp", "theirs/ours", "sip-sdp write", "webrtc-sdp write"
    );
    for d in DESCRIPTIONS {
        let ours = median_ns(dir, "sdp_parse", "sipkit", d)?;
        let typed = median_ns(dir, "sdp_parse", "sipkit_typed", d)?;
        let theirs = median_ns(dir, "sdp_parse", "webrtc_sdp", d)?;
        let write = median_ns(dir, "sdp_serialize", "sipkit", d)?;
        let their_write = median_ns(dir, "sdp_serialize", "webrtc_sdp", d)?;
        let _ = writeln!(
            out,
            "{d:<13} {ours:>9.0} ns {typed:>9.0} ns {theirs:>9.0} ns {:>9.1}x {write:>11.0} ns {their_write:>13.0} ns",
            theirs / ours.max(typed)
        );
    }
    Ok(out)
}

/// Messages per second through the UDP receive path (one core) and the stream decoder.
pub(crate) fn transport_table(dir: &Path) -> Result<String, String> {
    let mut out = String::new();
    let _ = writeln!(out, "{:<12} {:>26} {:>26}", "message", "UDP receive+parse+hand-off", "stream decode+parse");
    for m in ["options", "invite"] {
        let udp = median_per_element(&dir.join("udp_receive").join(m))?;
        let stream = median_per_element(&dir.join("stream_decode").join(m))?;
        let _ = writeln!(
            out,
            "{m:<12} {:>10.0} msg/s ({udp:>5.0} ns) {:>10.0} msg/s ({stream:>5.0} ns)",
            1e9 / udp,
            1e9 / stream
        );
    }
    Ok(out)
}

/// Whole transactions per second through the transaction layer alone (one core).
pub(crate) fn transaction_table(dir: &Path) -> Result<String, String> {
    let mut out = String::new();
    let _ = writeln!(out, "{:<24} {:>16} {:>12}", "transactions", "per second", "ns each");
    for name in [
        "non_invite_server_udp",
        "non_invite_server_tcp",
        "invite_server_udp",
        "non_invite_client_udp",
        "invite_client_udp",
    ] {
        let each = median_per_element(&dir.join("transaction").join(name))?;
        let _ = writeln!(out, "{name:<24} {:>16.0} {each:>12.0}", 1e9 / each);
    }
    Ok(out)
}

/// Whole calls per second through the answering cores (`benches/benches/call.rs`).
pub(crate) fn call_table(dir: &Path) -> Result<String, String> {
    let each = median_per_element(&dir.join("call").join("sipkit_answer"))?;
    Ok(format!(
        "{:<24} {:>16} {:>12}\n{:<24} {:>16.0} {each:>12.0}\n",
        "calls",
        "per second",
        "ns each",
        "sipkit_answer",
        1e9 / each
    ))
}

/// A table of full parse, parse only, rsip and serialize times per message.
pub(crate) fn message_table(dir: &Path) -> Result<String, String> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:>12} {:>12} {:>12} {:>10} {:>12}",
        "message", "sipkit full", "parse only", "rsip full", "rsip/ours", "serialize"
    );
    for m in MESSAGES {
        let full = median_ns(dir, "parse", "sipkit", m)?;
        let only = median_ns(dir, "parse", "sipkit_parse_only", m)?;
        let rsip = median_ns(dir, "parse", "rsip", m)?;
        let ser = median_ns(dir, "serialize", "sipkit", m)?;
        let _ =
            writeln!(out, "{m:<12} {full:>9.0} ns {only:>9.0} ns {rsip:>9.0} ns {:>9.1}x {ser:>9.0} ns", rsip / full);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a criterion result (median `median` ns per iteration, `throughput` as
    /// criterion records it) under `dir/name`.
    fn result(dir: &Path, name: &str, median: f64, throughput: &str) -> std::path::PathBuf {
        let bench = dir.join(name);
        fs::create_dir_all(bench.join("new")).unwrap();
        fs::write(bench.join("new/estimates.json"), format!(r#"{{"median":{{"point_estimate":{median}}}}}"#)).unwrap();
        fs::write(bench.join("new/benchmark.json"), format!(r#"{{"throughput":{throughput}}}"#)).unwrap();
        bench
    }

    #[test]
    fn a_batch_bench_is_reported_per_element_of_its_throughput() {
        let dir = std::env::temp_dir().join(format!("sipkit-bench-report-{}", std::process::id()));
        let batch = result(&dir, "batch", 50_000.0, r#"{"Elements":200}"#);
        assert_eq!(median_per_element(&batch), Ok(250.0));
        // A bench that counts bytes (the message parses) has no elements to divide by.
        let bytes = result(&dir, "bytes", 900.0, r#"{"Bytes":851}"#);
        assert!(median_per_element(&bytes).unwrap_err().contains("no throughput in elements"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
