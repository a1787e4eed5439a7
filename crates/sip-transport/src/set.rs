//! Several transports behind one: dispatch by the target's transport and address family,
//! and the sending side of §18.1.1 for requests.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use sip_message::Request;
use sip_message::header::Transport as TransportName;

use crate::rules::{stamp_sent_by, too_large_for_udp};
use crate::{Sent, Target, Transport, TransportError};

/// A set of transports (UDP and TCP on IPv4 and IPv6, say) used as one.
#[derive(Clone, Default)]
pub struct TransportSet {
    transports: Vec<Arc<dyn Transport>>,
    path_mtu: Option<usize>,
}

impl std::fmt::Debug for TransportSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let addrs: Vec<_> = self.transports.iter().flat_map(|t| t.local_addrs()).collect();
        f.debug_struct("TransportSet").field("local_addrs", &addrs).field("path_mtu", &self.path_mtu).finish()
    }
}

impl TransportSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a transport.
    pub fn with(mut self, transport: impl Transport + 'static) -> Self {
        self.transports.push(Arc::new(transport));
        self
    }

    /// Adds a shared transport.
    pub fn with_shared(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transports.push(transport);
        self
    }

    /// Sets the path MTU for the UDP size rule (unknown by default: 1300 bytes apply).
    pub fn with_path_mtu(mut self, mtu: Option<usize>) -> Self {
        self.path_mtu = mtu;
        self
    }

    /// The transport that sends to `target`: one of its transport listening in the same
    /// address family, else any of its transport.
    fn pick(&self, transport: &TransportName, remote: SocketAddr) -> Result<&dyn Transport, TransportError> {
        let mut fallback = None;
        for t in &self.transports {
            for (name, local) in t.local_addrs() {
                if name != *transport {
                    continue;
                }
                if local.is_ipv4() == remote.is_ipv4() {
                    return Ok(t.as_ref());
                }
                fallback.get_or_insert(t.as_ref());
            }
        }
        fallback.ok_or_else(|| TransportError::Unsupported(transport.clone()))
    }

    /// Sends a request, filling in its top Via with the transport and the local address it
    /// leaves from (§18.1.1). A request for UDP that is too large for it
    /// ([`too_large_for_udp`]) goes over TCP instead when this set has TCP, and over UDP
    /// after all if the TCP connection cannot be made. Returns how it was sent; the
    /// request keeps the Via it was sent with.
    pub async fn send_request(&self, request: &mut Request, target: &Target) -> Result<Sent, TransportError> {
        if target.transport == TransportName::UDP {
            let size = request.to_bytes().len();
            if too_large_for_udp(size, self.path_mtu) {
                if let Ok(tcp) = self.pick(&TransportName::TCP, target.remote) {
                    let over_tcp = Target::new(TransportName::TCP, target.remote);
                    if let Ok(sent) = tcp.prepare(&over_tcp).await {
                        return self.stamp_and_send(tcp, request, &over_tcp, &sent).await;
                    }
                }
            }
        }
        let transport = self.pick(&target.transport, target.remote)?;
        let sent = transport.prepare(target).await?;
        self.stamp_and_send(transport, request, target, &sent).await
    }

    /// Sends a request to the first of `targets` that takes it (the list from
    /// [`Locator::locate`](crate::resolve::Locator::locate)): on a transport error the next
    /// is tried (RFC 3263 §4.3). Returns the target used and how; when every one fails,
    /// the last error ([`TransportError::NoTarget`] for an empty list).
    pub async fn send_request_to_any(
        &self,
        request: &mut Request,
        targets: &[Target],
    ) -> Result<(Target, Sent), TransportError> {
        let mut last = TransportError::NoTarget;
        for target in targets {
            match self.send_request(request, target).await {
                Ok(sent) => return Ok((target.clone(), sent)),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    async fn stamp_and_send(
        &self,
        transport: &dyn Transport,
        request: &mut Request,
        target: &Target,
        prepared: &Sent,
    ) -> Result<Sent, TransportError> {
        // A request without a Via cannot be answered; it is sent as it is.
        let _ = stamp_sent_by(request, &prepared.transport, prepared.sent_by);
        let target = Target { connection: prepared.connection.or(target.connection), ..target.clone() };
        transport.send(&target, request.to_bytes()).await
    }
}

impl Transport for TransportSet {
    fn send<'a>(&'a self, target: &'a Target, message: Bytes) -> BoxFuture<'a, Result<Sent, TransportError>> {
        Box::pin(async move { self.pick(&target.transport, target.remote)?.send(target, message).await })
    }

    fn prepare<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Sent, TransportError>> {
        Box::pin(async move { self.pick(&target.transport, target.remote)?.prepare(target).await })
    }

    fn local_addrs(&self) -> Vec<(TransportName, SocketAddr)> {
        self.transports.iter().flat_map(|t| t.local_addrs()).collect()
    }
}
