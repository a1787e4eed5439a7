//! SIP over UDP (§18): one socket, one datagram per message.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use sip_message::ParseLimits;
use sip_message::header::Transport as TransportName;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::{IncomingSender, Received, Sent, Source, Target, Transport, TransportError};

/// The largest UDP payload (65 535 bytes less the IPv4 and UDP headers).
pub const MAX_DATAGRAM_BYTES: usize = 65_507;

/// Settings of a [`UdpTransport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UdpSettings {
    /// The limits each received datagram is parsed with.
    pub parse: ParseLimits,
}

/// A UDP socket sending and receiving SIP messages.
#[derive(Debug)]
pub struct UdpTransport {
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    receiver: JoinHandle<()>,
}

impl Drop for UdpTransport {
    fn drop(&mut self) {
        self.receiver.abort();
    }
}

impl UdpTransport {
    /// Binds `addr` and starts receiving: every datagram goes to `incoming` parsed, a
    /// request with `received`/`rport` added to its top Via (§18.2.1, RFC 3581).
    /// Datagrams of nothing but CRLF (keep-alives) are ignored; while the layer above is
    /// behind, the socket is not read: datagrams wait in its buffer, and the system drops
    /// what does not fit, as the network may.
    pub async fn bind(
        addr: SocketAddr,
        settings: UdpSettings,
        incoming: IncomingSender,
    ) -> Result<Self, TransportError> {
        let socket = Arc::new(UdpSocket::bind(addr).await.map_err(TransportError::io("binding a UDP socket"))?);
        let local = socket.local_addr().map_err(TransportError::io("reading a UDP socket's address"))?;
        let receiver = tokio::spawn(receive(Arc::clone(&socket), local, settings, incoming));
        Ok(Self { socket, local, receiver })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The local address datagrams to `remote` leave from: the bound address, or for a
    /// wildcard bind the address of the interface the system routes `remote` through.
    async fn source_address(&self, remote: SocketAddr) -> Result<SocketAddr, TransportError> {
        if !self.local.ip().is_unspecified() {
            return Ok(self.local);
        }
        // Connecting a UDP socket sends nothing; it only picks the route.
        let probe_addr = SocketAddr::new(self.local.ip(), 0);
        let probe = UdpSocket::bind(probe_addr).await.map_err(TransportError::io("binding a route probe"))?;
        probe.connect(remote).await.map_err(TransportError::io("finding the route to a target"))?;
        let ip: IpAddr = probe.local_addr().map_err(TransportError::io("reading a route probe's address"))?.ip();
        Ok(SocketAddr::new(ip, self.local.port()))
    }
}

async fn receive(socket: Arc<UdpSocket>, local: SocketAddr, settings: UdpSettings, incoming: IncomingSender) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let Some(room) = incoming.room().await else { return };
        let (n, remote) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            // An ICMP error for an earlier send, or a transient failure: keep receiving.
            Err(_) => continue,
        };
        let datagram = &buf[..n];
        if datagram.iter().all(|&b| b == b'\r' || b == b'\n') {
            continue;
        }
        let source = Source { transport: TransportName::UDP, local, remote, connection: None };
        room.send(Received::from_bytes(Bytes::copy_from_slice(datagram), &settings.parse, source));
    }
}

impl Transport for UdpTransport {
    fn send<'a>(&'a self, target: &'a Target, message: Bytes) -> BoxFuture<'a, Result<Sent, TransportError>> {
        Box::pin(async move {
            if target.transport != TransportName::UDP {
                return Err(TransportError::Unsupported(target.transport.clone()));
            }
            if message.len() > MAX_DATAGRAM_BYTES {
                return Err(TransportError::TooLarge { size: message.len(), limit: MAX_DATAGRAM_BYTES });
            }
            self.socket.send_to(&message, target.remote).await.map_err(TransportError::io("sending a datagram"))?;
            // The bound address; `prepare` tells the interface address behind a wildcard.
            Ok(Sent { transport: TransportName::UDP, local: self.local, sent_by: self.local, connection: None })
        })
    }

    fn prepare<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Sent, TransportError>> {
        Box::pin(async move {
            let local = self.source_address(target.remote).await?;
            Ok(Sent { transport: TransportName::UDP, local, sent_by: local, connection: None })
        })
    }

    fn local_addrs(&self) -> Vec<(TransportName, SocketAddr)> {
        vec![(TransportName::UDP, self.local)]
    }
}
