//! `serve`: the answerer and its transaction layer in one loop over a real UDP socket on
//! loopback, on tokio's paused clock. A caller that never acknowledges the 200 sees it
//! retransmitted, then gets the answerer's own BYE (a request of the answerer's, whose
//! transport is made ready on a task of its own), and the call is logged as ended.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use sip_dialog::EndReason;
use sip_message::{Message, Method, Response, StatusCode};
use sip_transaction::Config;
use sip_transport::udp::{UdpSettings, UdpTransport};
use sip_transport::{TransportSet, incoming_channel};
use sip_ua::answer::{AnswerPolicy, Answerer, CallReport, serve};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout};

const OFFER: &str = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

fn invite(caller: SocketAddr) -> String {
    format!(
        "INVITE sip:bob@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP {caller};branch=z9hG4bKserve1\r\n\
Max-Forwards: 70\r\n\
From: Alice <sip:alice@127.0.0.1>;tag=a1\r\n\
To: <sip:bob@127.0.0.1>\r\n\
Call-ID: serve1@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@{caller}>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{OFFER}",
        OFFER.len()
    )
}

async fn next(socket: &UdpSocket) -> Message {
    let mut buf = vec![0; 65_536];
    let (n, _) =
        timeout(Duration::from_secs(60), socket.recv_from(&mut buf)).await.expect("a datagram in time").unwrap();
    Message::parse(Bytes::copy_from_slice(&buf[..n])).expect("what serve sends parses")
}

#[tokio::test(start_paused = true)]
async fn an_unacknowledged_call_is_retransmitted_then_ended_with_the_answerers_bye() {
    let (tx, incoming) = incoming_channel(64);
    let udp = UdpTransport::bind("127.0.0.1:0".parse().unwrap(), UdpSettings::default(), tx).await.unwrap();
    let uas = udp.local_addr();
    let contact = format!("sip:sipkit@{uas}").parse().unwrap();
    let answerer = Answerer::new(AnswerPolicy::default(), contact, IpAddr::V4(Ipv4Addr::LOCALHOST));
    let reports: Arc<Mutex<Vec<CallReport>>> = Arc::default();
    let log = Arc::clone(&reports);
    tokio::spawn(serve(answerer, Config::default(), TransportSet::new().with(udp), incoming, move |r| {
        log.lock().unwrap().push(r.clone());
    }));

    let caller = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let start = Instant::now();
    caller.send_to(invite(caller.local_addr().unwrap()).as_bytes(), uas).await.unwrap();
    // The 200 with the answer, then its retransmissions (T1, 2·T1, ... capped at T2),
    // until 64·T1 passes without an ACK and the answerer sends BYE.
    let mut oks = 0;
    let bye = loop {
        match next(&caller).await {
            Message::Response(ok) => {
                assert_eq!(ok.status, StatusCode::OK);
                assert!(std::str::from_utf8(&ok.body).unwrap().contains("m=audio"), "the answer");
                oks += 1;
            }
            Message::Request(bye) => break bye,
        }
    };
    assert_eq!(bye.method, Method::BYE);
    assert!(oks >= 2, "the 200 was retransmitted ({oks})");
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_secs(32) && elapsed < Duration::from_secs(33), "BYE after {elapsed:?}");
    assert_eq!(bye.uri.to_string(), format!("sip:alice@{}", caller.local_addr().unwrap()));

    let ok = Response::from_request(&bye, StatusCode::OK);
    caller.send_to(&ok.to_bytes(), uas).await.unwrap();
    timeout(Duration::from_secs(5), async {
        while reports.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the call is logged");
    let report = reports.lock().unwrap()[0].clone();
    assert_eq!((report.answered, report.ended), (true, EndReason::NoAck));
    assert_eq!(report.call_id, "serve1@127.0.0.1");
}
