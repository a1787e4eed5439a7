//! Stream transports (TCP, TLS; §18): a listener, connections reused in both directions
//! (§18.2.2), and limits on how many connections there are and how long they may sit idle
//! or half-read. What differs between TCP, TLS and WebSocket is a [`StreamLayer`].

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use sip_message::Message;
use sip_message::header::Transport as TransportName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::codec::Decoder;

use crate::framing::{Frame, FramingLimits, PONG, StreamCodec};
use crate::{ConnectionId, IncomingSender, Received, Sent, Source, Target, Transport, TransportError};

/// Default for [`StreamSettings::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default for [`StreamSettings::max_connections_per_remote`].
pub const DEFAULT_MAX_CONNECTIONS_PER_REMOTE: usize = 16;
/// Default for [`StreamSettings::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(180);
/// Default for [`StreamSettings::frame_timeout`].
pub const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(32);
/// Default for [`StreamSettings::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`StreamSettings::write_timeout`].
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`StreamSettings::send_queue`].
pub const DEFAULT_SEND_QUEUE: usize = 256;
/// Size of each read from a connection.
const READ_CHUNK: usize = 8 * 1024;

/// Limits and timers of a stream transport; a peer beyond them has its connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    /// Most open connections, accepted and made together; beyond it new ones are refused.
    pub max_connections: usize,
    /// Most open connections with one remote IP address.
    pub max_connections_per_remote: usize,
    /// A connection with nothing read or written for this long is closed.
    pub idle_timeout: Duration,
    /// A message must arrive whole within this long of its first byte (a slow sender
    /// cannot hold a connection with a partial message).
    pub frame_timeout: Duration,
    /// Longest wait for an outgoing connection.
    pub connect_timeout: Duration,
    /// Longest wait for a peer to take a message written to it.
    pub write_timeout: Duration,
    /// Messages that may wait to be written on one connection.
    pub send_queue: usize,
    /// Framing limits.
    pub framing: FramingLimits,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_remote: DEFAULT_MAX_CONNECTIONS_PER_REMOTE,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            frame_timeout: DEFAULT_FRAME_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            send_queue: DEFAULT_SEND_QUEUE,
            framing: FramingLimits::default(),
        }
    }
}

/// An open connection as the table keeps it.
#[derive(Debug)]
struct Handle {
    remote: SocketAddr,
    local: SocketAddr,
    writer: mpsc::Sender<Bytes>,
    task: AbortHandle,
}

#[derive(Debug, Default)]
struct Table {
    by_id: HashMap<ConnectionId, Handle>,
    by_remote: HashMap<SocketAddr, Vec<ConnectionId>>,
    per_ip: HashMap<IpAddr, usize>,
}

impl Table {
    fn insert(&mut self, id: ConnectionId, handle: Handle) {
        self.by_remote.entry(handle.remote).or_default().push(id);
        *self.per_ip.entry(handle.remote.ip()).or_default() += 1;
        self.by_id.insert(id, handle);
    }

    fn remove(&mut self, id: ConnectionId) {
        let Some(handle) = self.by_id.remove(&id) else { return };
        if let Some(ids) = self.by_remote.get_mut(&handle.remote) {
            ids.retain(|&i| i != id);
            if ids.is_empty() {
                self.by_remote.remove(&handle.remote);
            }
        }
        if let Some(n) = self.per_ip.get_mut(&handle.remote.ip()) {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&handle.remote.ip());
            }
        }
    }

    /// Whether one more connection with `ip` is within the limits.
    fn admits(&self, ip: IpAddr, settings: &StreamSettings) -> Result<(), TransportError> {
        if self.by_id.len() >= settings.max_connections {
            return Err(TransportError::ConnectionLimit { limit: settings.max_connections });
        }
        if self.per_ip.get(&ip).copied().unwrap_or(0) >= settings.max_connections_per_remote {
            return Err(TransportError::ConnectionLimit { limit: settings.max_connections_per_remote });
        }
        Ok(())
    }

    /// An open connection for `target`: the one it names, else one to its address.
    fn find(&self, target: &Target) -> Option<(ConnectionId, &Handle)> {
        if let Some(id) = target.connection {
            if let Some(h) = self.by_id.get(&id) {
                return Some((id, h));
            }
        }
        let ids = self.by_remote.get(&target.remote)?;
        ids.iter().rev().find_map(|id| self.by_id.get(id).map(|h| (*id, h)))
    }
}

/// What a stream transport puts on its TCP connections (nothing for TCP, TLS, a
/// WebSocket) and how a connection's messages are read and written.
pub trait StreamLayer: Send + Sync + 'static {
    /// What a connection is once set up.
    type Stream: Send + 'static;

    /// The transport's name in Via and [`Source`] (`TCP`, `TLS`, `WS`, `WSS`).
    fn name(&self) -> TransportName;

    /// Sets up an accepted connection (the server side of a TLS or WebSocket handshake).
    fn accept(&self, tcp: TcpStream) -> BoxFuture<'static, io::Result<Self::Stream>>;

    /// Sets up a connection made to `target` (the client side of a handshake).
    fn connect(&self, tcp: TcpStream, target: &Target) -> BoxFuture<'static, io::Result<Self::Stream>>;

    /// Runs a set-up connection until it ends: hands up what it reads, writes what the
    /// transport sends ([`run_byte_stream`] for a byte stream framed by Content-Length).
    fn run(&self, stream: Self::Stream, connection: Connection) -> BoxFuture<'static, ()>;
}

/// A connection's side of the transport, for [`StreamLayer::run`].
#[derive(Debug)]
pub struct Connection {
    source: Source,
    settings: StreamSettings,
    incoming: IncomingSender,
    outbox: mpsc::Receiver<Bytes>,
}

impl Connection {
    /// Where what the connection reads comes from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The transport's settings.
    pub fn settings(&self) -> &StreamSettings {
        &self.settings
    }

    /// Hands a received message up, waiting while the layer above is behind (which stops
    /// reading the connection). Returns `false` when nobody receives any more.
    pub async fn deliver(&self, message: Message) -> bool {
        self.incoming.deliver(Received::from_message(message, self.source.clone())).await
    }

    /// Hands up bytes framed as a message that do not parse.
    pub async fn deliver_malformed(&self, bytes: Bytes, error: sip_message::ParseError) -> bool {
        self.incoming.deliver(Received::Malformed { bytes, error, source: self.source.clone() }).await
    }

    /// The next message the transport has to write; `None` when the transport is gone.
    pub async fn next_to_send(&mut self) -> Option<Bytes> {
        self.outbox.recv().await
    }
}

struct Shared<L: StreamLayer> {
    layer: L,
    settings: StreamSettings,
    incoming: IncomingSender,
    next_id: AtomicU64,
    table: Mutex<Table>,
}

impl<L: StreamLayer> Shared<L> {
    fn table(&self) -> MutexGuard<'_, Table> {
        // A panic while the lock is held cannot leave the table inconsistent in a way
        // that matters more than losing every connection would.
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a connection and starts its task; `setup` is the layer's part (for an
    /// accepted connection, its handshake runs in the task, bounded by the connect timeout).
    fn start(
        self: &Arc<Self>,
        setup: BoxFuture<'static, io::Result<L::Stream>>,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> (ConnectionId, mpsc::Sender<Bytes>) {
        let id = ConnectionId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (writer, outbox) = mpsc::channel(self.settings.send_queue.max(1));
        let mut table = self.table();
        let shared = Arc::clone(self);
        let task = tokio::spawn(async move {
            if let Ok(Ok(stream)) = timeout(shared.settings.connect_timeout, setup).await {
                let connection = Connection {
                    source: Source { transport: shared.layer.name(), local, remote, connection: Some(id) },
                    settings: shared.settings,
                    incoming: shared.incoming.clone(),
                    outbox,
                };
                shared.layer.run(stream, connection).await;
            }
            shared.table().remove(id);
        });
        table.insert(id, Handle { remote, local, writer: writer.clone(), task: task.abort_handle() });
        (id, writer)
    }
}

/// A stream transport: a listening socket and the connections made and accepted.
pub struct StreamTransport<L: StreamLayer> {
    shared: Arc<Shared<L>>,
    local: SocketAddr,
    listener: JoinHandle<()>,
}

impl<L: StreamLayer> std::fmt::Debug for StreamTransport<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTransport")
            .field("transport", &self.shared.layer.name())
            .field("local", &self.local)
            .field("connections", &self.connection_count())
            .finish()
    }
}

impl<L: StreamLayer> Drop for StreamTransport<L> {
    fn drop(&mut self) {
        self.listener.abort();
        for handle in self.shared.table().by_id.values() {
            handle.task.abort();
        }
    }
}

impl<L: StreamLayer> StreamTransport<L> {
    /// Listens on `addr` with `layer` on every connection; what arrives on any connection
    /// goes to `incoming`.
    pub async fn bind_with(
        layer: L,
        addr: SocketAddr,
        settings: StreamSettings,
        incoming: IncomingSender,
    ) -> Result<Self, TransportError> {
        let listener = TcpListener::bind(addr).await.map_err(TransportError::io("binding a TCP listener"))?;
        let local = listener.local_addr().map_err(TransportError::io("reading a TCP listener's address"))?;
        let shared =
            Arc::new(Shared { layer, settings, incoming, next_id: AtomicU64::new(1), table: Mutex::default() });
        let listener = tokio::spawn(accept(listener, Arc::clone(&shared)));
        Ok(Self { shared, local, listener })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// How many connections are open.
    pub fn connection_count(&self) -> usize {
        self.shared.table().by_id.len()
    }

    fn sent(&self, id: ConnectionId, local: SocketAddr) -> Sent {
        Sent {
            transport: self.shared.layer.name(),
            local,
            sent_by: SocketAddr::new(local.ip(), self.local.port()),
            connection: Some(id),
        }
    }

    /// An open connection for `target`, or a new one.
    async fn connection(
        &self,
        target: &Target,
    ) -> Result<(ConnectionId, SocketAddr, mpsc::Sender<Bytes>), TransportError> {
        if target.transport != self.shared.layer.name() {
            return Err(TransportError::Unsupported(target.transport.clone()));
        }
        {
            let table = self.shared.table();
            if let Some((id, h)) = table.find(target) {
                if !h.writer.is_closed() {
                    return Ok((id, h.local, h.writer.clone()));
                }
            }
            table.admits(target.remote.ip(), &self.shared.settings)?;
        }
        let stream = timeout(self.shared.settings.connect_timeout, TcpStream::connect(target.remote))
            .await
            .map_err(|_| TransportError::ConnectTimeout(target.remote))?
            .map_err(TransportError::io("connecting over TCP"))?;
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().map_err(TransportError::io("reading a connection's address"))?;
        let stream = timeout(self.shared.settings.connect_timeout, self.shared.layer.connect(stream, target))
            .await
            .map_err(|_| TransportError::ConnectTimeout(target.remote))?
            .map_err(TransportError::io("setting up a connection"))?;
        self.shared.table().admits(target.remote.ip(), &self.shared.settings)?;
        let ready: BoxFuture<'static, io::Result<L::Stream>> = Box::pin(async move { Ok(stream) });
        let (id, writer) = self.shared.start(ready, local, target.remote);
        Ok((id, local, writer))
    }
}

async fn accept<L: StreamLayer>(listener: TcpListener, shared: Arc<Shared<L>>) {
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                let Ok(local) = stream.local_addr() else { continue };
                if shared.table().admits(remote.ip(), &shared.settings).is_err() {
                    // Over a limit: refused by closing at once.
                    drop(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let setup = shared.layer.accept(stream);
                shared.start(setup, local, remote);
            }
            // Out of descriptors or similar: wait a little instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
        if shared.incoming.is_closed() {
            return;
        }
    }
}

/// Runs a byte-stream connection (TCP, TLS): messages framed by Content-Length with
/// [`StreamCodec`], keep-alive pings answered, closed when idle for
/// [`StreamSettings::idle_timeout`], when a message takes longer than
/// [`StreamSettings::frame_timeout`] to arrive whole, or when framing fails (after the
/// 400 or 413 the framer names).
pub fn run_byte_stream<S>(stream: S, connection: Connection) -> BoxFuture<'static, ()>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    Box::pin(byte_stream(stream, connection))
}

async fn byte_stream<S: AsyncRead + AsyncWrite + Send + 'static>(stream: S, mut connection: Connection) {
    let settings = connection.settings;
    let (mut read_half, mut write_half) = tokio::io::split(stream);
    let mut codec = StreamCodec::new(settings.framing);
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut last_activity = Instant::now();
    let mut frame_started: Option<Instant> = None;
    // Ends when the peer closes, reading or writing fails, a timer runs out or the
    // framing rules are broken.
    loop {
        let idle_deadline = last_activity + settings.idle_timeout;
        let deadline = frame_started.map_or(idle_deadline, |t| (t + settings.frame_timeout).min(idle_deadline));
        tokio::select! {
            read = read_half.read_buf(&mut buf) => {
                match read {
                    Ok(0) | Err(_) => {
                        // At the end of the stream a partial message is lost; nothing to answer.
                        let _ = codec.decode_eof(&mut buf);
                        break;
                    }
                    Ok(_) => {}
                }
                last_activity = Instant::now();
                if drain(&mut codec, &mut buf, &connection, &mut write_half, &settings).await.is_err() {
                    break;
                }
                frame_started = match (codec.is_inside_message(&buf), frame_started) {
                    (false, _) => None,
                    (true, None) => Some(last_activity),
                    (true, started) => started,
                };
                if buf.capacity() - buf.len() < READ_CHUNK / 2 {
                    buf.reserve(READ_CHUNK);
                }
            }
            message = connection.next_to_send() => {
                let Some(message) = message else { break };
                if write(&mut write_half, &message, &settings).await.is_err() {
                    break;
                }
                last_activity = Instant::now();
            }
            () = sleep_until(deadline) => break,
        }
    }
    let _ = timeout(settings.write_timeout, write_half.shutdown()).await;
}

async fn write<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8], settings: &StreamSettings) -> Result<(), ()> {
    match timeout(settings.write_timeout, w.write_all(bytes)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Hands up every whole frame in `buf`, answers pings; on a framing error answers the
/// request when it can and ends the connection.
async fn drain<W: AsyncWrite + Unpin>(
    codec: &mut StreamCodec,
    buf: &mut BytesMut,
    connection: &Connection,
    writer: &mut W,
    settings: &StreamSettings,
) -> Result<(), ()> {
    loop {
        match codec.decode(buf) {
            Ok(None) => return Ok(()),
            Ok(Some(Frame::Message(message))) => {
                if !connection.deliver(message).await {
                    return Err(());
                }
            }
            Ok(Some(Frame::Malformed { bytes, error })) => {
                if !connection.deliver_malformed(bytes, error).await {
                    return Err(());
                }
            }
            Ok(Some(Frame::Ping)) => write(writer, PONG, settings).await?,
            Ok(Some(Frame::Pong)) => {}
            Err(error) => {
                if let Some(response) = error.response() {
                    let _ = write(writer, &response.to_bytes(), settings).await;
                }
                return Err(());
            }
        }
    }
}

impl<L: StreamLayer> Transport for StreamTransport<L> {
    fn send<'a>(&'a self, target: &'a Target, message: Bytes) -> BoxFuture<'a, Result<Sent, TransportError>> {
        Box::pin(async move {
            let (id, local, writer) = self.connection(target).await?;
            writer.send(message).await.map_err(|_| TransportError::ConnectionClosed(id))?;
            Ok(self.sent(id, local))
        })
    }

    fn prepare<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Sent, TransportError>> {
        Box::pin(async move {
            let (id, local, _) = self.connection(target).await?;
            Ok(self.sent(id, local))
        })
    }

    fn local_addrs(&self) -> Vec<(TransportName, SocketAddr)> {
        vec![(self.shared.layer.name(), self.local)]
    }
}
