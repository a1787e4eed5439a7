//! `cargo xtask conformance --uas`: every message of a corpus sent over UDP to a live
//! `sipkit answer` on loopback, its top Via's sent-by first rewritten to the sender's own
//! address (as the corpus README says), the final response compared with the manifest's
//! `uas_status` column. Afterwards the UAS must still answer an OPTIONS.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::conformance::{Totals, manifest_rows};
use crate::interop::{Answering, free_port};

/// How long to wait for the final response to a message with a fixed expected status.
const ANSWER_WAIT: Duration = Duration::from_secs(2);
/// How long to listen after a message with no fixed expected status (`-`).
const ANY_WAIT: Duration = Duration::from_millis(300);

/// Whether `b` is linear white space at `i` (SP, HT, or a line end followed by one).
fn lws_len(b: &[u8], i: usize) -> usize {
    let mut j = i;
    loop {
        match b.get(j) {
            Some(b' ' | b'\t') => j += 1,
            Some(b'\r') if b.get(j + 1) == Some(&b'\n') && matches!(b.get(j + 2), Some(b' ' | b'\t')) => j += 3,
            Some(b'\n') if matches!(b.get(j + 1), Some(b' ' | b'\t')) => j += 2,
            _ => return j - i,
        }
    }
}

/// The start of each header field line of the head (after the start line).
fn field_starts(b: &[u8]) -> Vec<usize> {
    let head_end = b.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(b.len());
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(n) = b[i..head_end].iter().position(|&c| c == b'\n') {
        i += n + 1;
        if i < head_end && !matches!(b[i], b' ' | b'\t') {
            starts.push(i);
        }
    }
    starts
}

/// The name of the field at `start` (lower case) and where its value begins.
fn field_at(b: &[u8], start: usize) -> Option<(String, usize)> {
    let colon = start + b[start..].iter().position(|&c| c == b':' || c == b'\n')?;
    if b[colon] != b':' {
        return None;
    }
    let name = String::from_utf8_lossy(&b[start..colon]).trim().to_ascii_lowercase();
    Some((name, colon + 1))
}

/// `message` with the sent-by of its topmost Via replaced by `sent_by`; `None` when it
/// has no Via that scans as `SIP / 2.0 / transport sent-by`.
pub(crate) fn rewrite_top_via(message: &[u8], sent_by: &str) -> Option<Vec<u8>> {
    let start = field_starts(message)
        .into_iter()
        .find(|&s| field_at(message, s).is_some_and(|(name, _)| name == "via" || name == "v"))?;
    let (_, mut i) = field_at(message, start)?;
    // sent-protocol: three tokens joined by "/", LWS around each.
    for part in 0..3 {
        i += lws_len(message, i);
        let token = message[i..].iter().take_while(|c| c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(c)).count();
        if token == 0 {
            return None;
        }
        i += token;
        i += lws_len(message, i);
        if part < 2 {
            if message.get(i) != Some(&b'/') {
                return None;
            }
            i += 1;
        }
    }
    let end = i + message[i..].iter().position(|c| b";, \t\r\n".contains(c))?;
    if end == i {
        return None;
    }
    Some([&message[..i], sent_by.as_bytes(), &message[end..]].concat())
}

/// The value of the first field named `names` (trimmed, unfolded no further).
fn field_value(message: &[u8], names: &[&str]) -> Option<String> {
    field_starts(message).into_iter().find_map(|s| {
        let (name, v) = field_at(message, s)?;
        if !names.contains(&name.as_str()) {
            return None;
        }
        let end = v + message[v..].iter().position(|&c| c == b'\r' || c == b'\n').unwrap_or(message.len() - v);
        Some(String::from_utf8_lossy(&message[v..end]).trim().to_owned())
    })
}

/// The status code of a response datagram.
fn status_of(datagram: &[u8]) -> Option<u16> {
    let line = datagram.strip_prefix(b"SIP/2.0 ")?;
    std::str::from_utf8(line.get(..3)?).ok()?.parse().ok()
}

/// Sends `message` and waits up to `wait` for a final response with its Call-ID (or,
/// when it has none, one without any); the status, if one came.
fn exchange(socket: &UdpSocket, uas: SocketAddr, message: &[u8], wait: Duration) -> Result<Option<u16>, String> {
    socket.send_to(message, uas).map_err(|e| format!("sending: {e}"))?;
    let call_id = field_value(message, &["call-id", "i"]);
    let deadline = Instant::now() + wait;
    let mut buf = vec![0; 65_535];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        socket.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        let Ok((n, from)) = socket.recv_from(&mut buf) else { return Ok(None) };
        let datagram = &buf[..n];
        if from != uas {
            continue;
        }
        let Some(status) = status_of(datagram) else { continue };
        if status >= 200 && field_value(datagram, &["call-id", "i"]) == call_id {
            return Ok(Some(status));
        }
    }
}

/// Runs every row of `dir/MANIFEST.tsv` against a live `sipkit answer`.
pub(crate) fn run(sipkit: &Path, dir: &Path) -> Result<Totals, String> {
    let rows = manifest_rows(dir, &["file", "uas_status"])?;
    let port = free_port()?;
    let answering = Answering::start(sipkit, port)?;
    let uas = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    // A socket per message: the corpus reuses branches (z9hG4bKkdjuw in several), so
    // with one sent-by for all, later requests would match earlier ones' transactions
    // (§17.2.3) and get their responses again.
    let sender = || -> Result<(UdpSocket, String), String> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("binding: {e}"))?;
        let sent_by = socket.local_addr().map_err(|e| e.to_string())?.to_string();
        Ok((socket, sent_by))
    };

    println!("== {} (uas over UDP)", dir.display());
    let mut totals = Totals::default();
    for row in &rows {
        let (file, want) = (row[0].as_str(), row[1].as_str());
        let bytes = fs::read(dir.join(file)).map_err(|e| format!("reading {file}: {e}"))?;
        let (socket, sent_by) = sender()?;
        // Never sent unless its Via names this sender: the corpus's addresses are
        // documentation addresses, and nothing may go to them.
        let has_via =
            field_starts(&bytes).into_iter().any(|s| field_at(&bytes, s).is_some_and(|(n, _)| n == "via" || n == "v"));
        // A message with no Via at all names no address to answer to: sent as it is.
        let rewritten = if has_via { rewrite_top_via(&bytes, &sent_by) } else { Some(bytes) };
        let (got, pass) = match rewritten {
            None => ("a Via that cannot be rewritten: not sent".to_owned(), false),
            Some(message) => {
                let wait = if want == "-" { ANY_WAIT } else { ANSWER_WAIT };
                let status = exchange(&socket, uas, &message, wait)?;
                let got = status.map_or("-".to_owned(), |s| s.to_string());
                let pass = want == "-" || want.split('|').any(|w| w == got);
                (got, pass)
            }
        };
        if pass {
            totals.passed += 1;
        } else {
            totals.failed += 1;
        }
        println!("{} {file:<40} want {want:<7} got {got}", if pass { "PASS" } else { "FAIL" });
    }
    // Still alive: an OPTIONS gets its 200.
    let (socket, sent_by) = sender()?;
    let options = format!(
        "OPTIONS sip:uas@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {sent_by};branch=z9hG4bKalive{port}\r\n\
Max-Forwards: 70\r\nFrom: <sip:xtask@127.0.0.1>;tag=alive\r\nTo: <sip:uas@127.0.0.1>\r\n\
Call-ID: alive-{port}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    let alive = exchange(&socket, uas, options.as_bytes(), ANSWER_WAIT)? == Some(200);
    if alive {
        totals.passed += 1;
    } else {
        totals.failed += 1;
    }
    println!("{} {:<40} want 200     afterwards", if alive { "PASS" } else { "FAIL" }, "OPTIONS");
    drop(answering);
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_via_sent_by_is_rewritten_through_folding_and_compact_names() {
        let folded = b"INVITE sip:a SIP/2.0\r\nTo: <sip:b>\r\nVia  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=x\r\nv: SIP/2.0/TCP h2\r\n\r\n";
        let out = rewrite_top_via(folded, "127.0.0.1:9").unwrap();
        assert_eq!(
            out,
            b"INVITE sip:a SIP/2.0\r\nTo: <sip:b>\r\nVia  : SIP  /   2.0\r\n /UDP\r\n    127.0.0.1:9;branch=x\r\nv: SIP/2.0/TCP h2\r\n\r\n"
        );
        let v6 = b"BYE sip:a SIP/2.0\r\nv: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=y\r\n\r\n";
        assert_eq!(
            rewrite_top_via(v6, "127.0.0.1:9").unwrap(),
            b"BYE sip:a SIP/2.0\r\nv: SIP/2.0/UDP 127.0.0.1:9;branch=y\r\n\r\n"
        );
        assert_eq!(rewrite_top_via(b"OPTIONS sip:a SIP/2.0\r\nTo: <sip:b>\r\n\r\n", "127.0.0.1:9"), None);
    }
}
