//! Decodes one header value in a loop, for a profiler: `profile_decode KIND VALUE ROUNDS`.
use bytes::Bytes;
use sip_message::header::{self, TypedHeader};

fn run<H: TypedHeader>(value: &Bytes, rounds: usize) -> usize {
    (0..rounds).filter(|_| H::decode(std::hint::black_box(value)).is_ok()).count()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = bytes::BytesMut::from(args[2].as_bytes()).freeze();
    let rounds: usize = args[3].parse().unwrap();
    let ok = match args[1].as_str() {
        "from" => run::<header::From>(&value, rounds),
        "via" => run::<header::Via>(&value, rounds),
        "contact" => run::<header::Contact>(&value, rounds),
        "callid" => run::<header::CallId>(&value, rounds),
        "cseq" => run::<header::CSeq>(&value, rounds),
        _ => panic!("unknown kind"),
    };
    println!("{ok} decoded");
}
