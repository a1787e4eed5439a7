//! `sipkit parse`: a readable breakdown or one JSON line per file.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bytes::Bytes;
use serde_json::{Value, json};
use sip_message::header::{Contact, Via};
use sip_message::{Message, ParseError};

/// Parses each file; exit status 0 when every file parsed and validated.
pub(crate) fn run(files: &[PathBuf], json: bool) -> ExitCode {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut all_ok = true;
    for path in files {
        let name = path.display().to_string();
        let result = read(path).map_err(Failure::Io).and_then(|b| parse_both(b).map_err(Failure::Parse));
        all_ok &= result.is_ok();
        let written =
            if json { writeln!(out, "{}", to_json(&name, &result)) } else { write_breakdown(&mut out, &name, &result) };
        if written.is_err() {
            return ExitCode::FAILURE;
        }
    }
    if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

enum Failure {
    Io(io::Error),
    Parse(ParseError),
}

fn read(path: &Path) -> io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path)
    }
}

fn parse_both(bytes: Vec<u8>) -> Result<Message, ParseError> {
    let m = Message::parse(Bytes::from(bytes))?;
    m.validate()?;
    Ok(m)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn via_json(v: &Via) -> Value {
    json!({
        "transport": v.transport().as_str(),
        "host": v.host().as_str(),
        "port": v.port(),
        "branch": v.branch(),
        "received": v.params().get("received").and_then(|r| r.value).map(|r| text(strip_brackets(r))),
        "rport": match v.rport() {
            None => Value::Null,
            Some(None) => Value::Bool(true),
            Some(Some(p)) => json!(p),
        },
    })
}

/// A host as written, without the brackets of an IPv6 reference.
fn strip_brackets(h: &[u8]) -> &[u8] {
    h.strip_prefix(b"[").and_then(|h| h.strip_suffix(b"]")).unwrap_or(h)
}

fn contact_json(c: &Contact) -> Value {
    match c {
        Contact::Star => json!("*"),
        Contact::Address(a) => json!(a.uri().to_string()),
    }
}

fn to_json(file: &str, result: &Result<Message, Failure>) -> Value {
    let m = match result {
        Ok(m) => m,
        Err(Failure::Io(e)) => return json!({"file": file, "ok": false, "status": null, "error": e.to_string()}),
        Err(Failure::Parse(e)) => {
            return json!({
                "file": file,
                "ok": false,
                "status": e.status().map(|s| s.as_u16()),
                "error": e.to_string(),
            });
        }
    };
    // The message validated, so every typed value below decodes.
    let h = m.headers();
    let (kind, method, uri, status, reason) = match m {
        Message::Request(r) => {
            ("request", json!(r.method.as_str()), json!(r.uri.to_string()), Value::Null, Value::Null)
        }
        Message::Response(r) => ("response", Value::Null, Value::Null, json!(r.status.as_u16()), json!(r.reason())),
    };
    let addr = |a: Option<&sip_message::header::NameAddr>| match a {
        Some(a) => json!({"uri": a.uri().to_string(), "tag": a.tag()}),
        None => Value::Null,
    };
    let from = h.from().and_then(Result::ok);
    let to = h.to().and_then(Result::ok);
    json!({
        "file": file,
        "ok": true,
        "kind": kind,
        "method": method,
        "uri": uri,
        "status": status,
        "reason": reason,
        "call_id": h.call_id().and_then(Result::ok).map(|c| text(&c.0)),
        "cseq": h.cseq().and_then(Result::ok).map(|c| json!({"seq": c.seq, "method": c.method.as_str()})),
        "from": addr(from.as_ref().map(|f| &f.0)),
        "to": addr(to.as_ref().map(|t| &t.0)),
        "via": h.via().filter_map(Result::ok).map(|v| via_json(&v)).collect::<Vec<_>>(),
        "contacts": h.contact().filter_map(Result::ok).map(|c| contact_json(&c)).collect::<Vec<_>>(),
        "routes": h.route().filter_map(Result::ok).map(|r| json!(r.uri().to_string())).collect::<Vec<_>>(),
        "record_routes": h.record_route().filter_map(Result::ok).map(|r| json!(r.uri().to_string())).collect::<Vec<_>>(),
        "max_forwards": h.max_forwards().and_then(Result::ok).map(|m| m.0),
        "content_length": h.content_length().and_then(Result::ok).map(|c| c.0),
        "body_len": m.body().len(),
        "headers": h.len(),
    })
}

fn write_breakdown(out: &mut impl Write, file: &str, result: &Result<Message, Failure>) -> io::Result<()> {
    let m = match result {
        Ok(m) => m,
        Err(Failure::Io(e)) => return writeln!(out, "{file}: cannot read: {e}\n"),
        Err(Failure::Parse(e)) => {
            let answer = match e.status() {
                Some(s) => format!("a UAS answers {} {}", s.as_u16(), s.default_reason()),
                None => "a response: dropped without an answer".to_string(),
            };
            return writeln!(out, "{file}: REJECTED ({answer})\n  {e}\n");
        }
    };
    match m {
        Message::Request(r) => writeln!(out, "{file}: request {} {}", r.method, r.uri)?,
        Message::Response(r) => writeln!(out, "{file}: response {} {}", r.status, r.reason())?,
    }
    let h = m.headers();
    let row = |out: &mut dyn Write, k: &str, v: String| writeln!(out, "  {k:<14}{v}");
    if let Some(Ok(c)) = h.call_id() {
        row(out, "Call-ID", text(&c.0))?;
    }
    if let Some(Ok(c)) = h.cseq() {
        row(out, "CSeq", format!("{} {}", c.seq, c.method))?;
    }
    for (label, a) in
        [("From", h.from().and_then(Result::ok).map(|f| f.0)), ("To", h.to().and_then(Result::ok).map(|t| t.0))]
    {
        if let Some(a) = a {
            let tag = a.tag().map(|t| format!(" tag={t}")).unwrap_or_default();
            row(out, label, format!("{}{tag}", a.uri()))?;
        }
    }
    for v in h.via().filter_map(Result::ok) {
        let port = v.port().map(|p| format!(":{p}")).unwrap_or_default();
        let branch = v.branch().map(|b| format!(" branch={b}")).unwrap_or_default();
        row(out, "Via", format!("{} {}{port}{branch}", v.transport(), v.host()))?;
    }
    if let Some(Ok(mf)) = h.max_forwards() {
        row(out, "Max-Forwards", mf.0.to_string())?;
    }
    for c in h.contact().filter_map(Result::ok) {
        row(out, "Contact", contact_json(&c).as_str().unwrap_or_default().to_string())?;
    }
    for r in h.route().filter_map(Result::ok) {
        row(out, "Route", r.uri().to_string())?;
    }
    for r in h.record_route().filter_map(Result::ok) {
        row(out, "Record-Route", r.uri().to_string())?;
    }
    let ct = h.content_type().and_then(Result::ok).map(|c| format!(" ({}/{})", c.0.kind(), c.0.subtype()));
    row(out, "body", format!("{} bytes{}", m.body().len(), ct.unwrap_or_default()))?;
    writeln!(out, "  {} header fields:", h.len())?;
    for f in h.iter() {
        writeln!(out, "    {}: {}", f.name(), text(&f.value_unfolded()))?;
    }
    writeln!(out)
}
