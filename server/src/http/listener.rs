//! The TCP listener: serves [`super::app`] over HTTP/1.1 with a connection
//! cap, per-connection timeouts and graceful shutdown.
//!
//! `axum::serve` can set none of these, so each connection is served with
//! hyper's HTTP/1 builder (HTTP/1 only, as `axum::serve` with axum's default
//! features; HTTP/2 belongs to the TLS proxy in front). A watchdog per
//! connection closes it when
//!
//! - a request head has started but is not complete after `header_read`
//!   (slow headers, "slowloris");
//! - no request is in flight and nothing was read for `idle` (keep-alive);
//! - a request is in flight but neither a byte was read nor written for
//!   `stall` (a client that stopped reading its answer; slow handlers are
//!   bounded by the request timeout of `limits`).
//!
//! At most `max_connections` are open: past it, new connections wait in the
//! kernel's accept queue until one closes. On shutdown the listener closes,
//! idle connections close at once, and requests in flight finish (for at
//! most `grace`).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

/// Most header fields hyper itself parses; [`super::limits::MAX_HEADERS`]
/// (lower) answers with a JSON 431 first.
const HYPER_MAX_HEADERS: usize = 2 * super::limits::MAX_HEADERS;

/// Connection limits (`--header-timeout`, `--idle-timeout`, `--max-connections`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectionLimits {
    /// From the first byte of a request head to its end.
    pub header_read: Duration,
    /// A keep-alive connection with no request in flight.
    pub idle: Duration,
    /// A request in flight with no byte read or written.
    pub stall: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight.
    pub grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(30),
            stall: Duration::from_secs(90),
            max_connections: 1024,
            grace: Duration::from_secs(30),
        }
    }
}

/// The local address a connection was accepted on, as a request extension
/// (the base URL falls back to it, see `base_url`).
#[derive(Debug, Clone, Copy)]
pub struct LocalAddr(pub SocketAddr);

/// Serves `app` on `listener` until `shutdown` completes, then shuts down
/// gracefully.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, don't spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let stopped = stopped.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, app, limits, stopped).await;
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; finishing requests in flight");
    let _ = stop.send(true);
    // Every connection holds a slot: having them all back means all closed.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = limits.grace.as_secs_f64(),
            "requests still in flight after the grace period: closing them"
        );
    }
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().ok();
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked::new(stream, activity.clone()));
    let tracker = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let guard = InFlight::begin(&tracker);
        request.extensions_mut().insert(ConnectInfo(peer));
        if let Some(local) = local {
            request.extensions_mut().insert(LocalAddr(local));
        }
        let app = app.clone();
        async move {
            let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
            Ok::<_, Infallible>(response.map(|body| {
                Body::new(Guarded {
                    inner: body,
                    _guard: guard,
                })
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // hyper's timer starts when it waits for a head, idle time included:
        // the longer of the two, a second later, is the backstop; the
        // watchdog closes (and counts) first.
        .header_read_timeout(limits.header_read.max(limits.idle) + Duration::from_secs(1))
        .max_headers(HYPER_MAX_HEADERS)
        .keep_alive(true);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut stopping = *stopped.borrow();
    if stopping {
        connection.as_mut().graceful_shutdown();
    }
    loop {
        let deadline = activity.deadline(&limits);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            // A deadline moved earlier (a head started, a request ended).
            () = activity.moved.notified() => {}
            () = tokio::time::sleep_until(deadline) => {
                if let Some(reason) = activity.expired(&limits, Instant::now()) {
                    tracing::debug!(%peer, reason, "closing the connection");
                    super::metrics::metrics().rejected(reason);
                    return;
                }
            }
            changed = stopped.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// What a connection is doing, as the watchdog sees it.
struct Activity {
    state: Mutex<ActivityState>,
    /// Wakes the watchdog when the deadline may have moved earlier than the
    /// one it sleeps until (a permit is kept if it is not waiting).
    moved: tokio::sync::Notify,
}

struct ActivityState {
    in_flight: usize,
    /// When the last request finished (or the connection opened).
    idle_since: Instant,
    /// When the first byte of a request head arrived, while no request is in flight.
    head_started: Option<Instant>,
    /// The last byte read or written.
    last_io: Instant,
    /// Requests handed to the application, and response heads written for them.
    dispatched: u64,
    answered: u64,
}

impl Activity {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(ActivityState {
                in_flight: 0,
                idle_since: now,
                head_started: None,
                last_io: now,
                dispatched: 0,
                answered: 0,
            }),
            moved: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        self.state
            .lock()
            .expect("connection activity lock poisoned")
    }

    fn read(&self) {
        let now = Instant::now();
        let mut s = self.lock();
        s.last_io = now;
        if s.in_flight == 0 && s.head_started.is_none() {
            s.head_started = Some(now);
            // From the idle deadline to the (earlier) header deadline.
            self.moved.notify_one();
        }
    }

    fn wrote(&self) {
        self.lock().last_io = Instant::now();
    }

    /// When the connection is to be closed if nothing happens meanwhile.
    fn deadline(&self, limits: &ConnectionLimits) -> Instant {
        let s = self.lock();
        if s.in_flight > 0 {
            s.last_io + limits.stall
        } else if let Some(started) = s.head_started {
            started + limits.header_read
        } else {
            s.idle_since + limits.idle
        }
    }

    /// Why the connection is to be closed at `now`, if it is.
    fn expired(&self, limits: &ConnectionLimits, now: Instant) -> Option<&'static str> {
        let s = self.lock();
        if s.in_flight > 0 {
            (now >= s.last_io + limits.stall).then_some("stalled")
        } else if let Some(started) = s.head_started {
            (now >= started + limits.header_read).then_some("header_timeout")
        } else {
            (now >= s.idle_since + limits.idle).then_some("idle_timeout")
        }
    }
}

/// Held from a request's dispatch until its response body is written.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> Self {
        let mut s = activity.lock();
        s.in_flight += 1;
        s.dispatched += 1;
        s.head_started = None;
        drop(s);
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = Instant::now();
        let mut s = self.0.lock();
        s.in_flight -= 1;
        if s.in_flight == 0 {
            s.idle_since = now;
            s.head_started = None;
            // From the stall deadline to the (earlier) idle one.
            self.0.moved.notify_one();
        }
    }
}

/// A response body that ends the request's [`InFlight`] when it is dropped.
struct Guarded {
    inner: Body,
    _guard: InFlight,
}

impl http_body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, noting every byte read and written.
///
/// It also gives hyper's own answers a JSON body: a request hyper cannot
/// parse (a garbled request line, a URI or header block past hyper's hard
/// limits) is answered by hyper itself, before any request reaches the
/// application, with an empty 400, 414 or 431. Such a response is the only
/// final response head written with no request dispatched to answer, so it
/// is recognised there (heads written are counted against requests
/// dispatched) and replaced by the same status with the JSON error body.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
    /// A replacement response still to be written, and how much of it is.
    pending: Vec<u8>,
    pending_at: usize,
}

impl Tracked {
    fn new(inner: TcpStream, activity: Arc<Activity>) -> Self {
        Self {
            inner,
            activity,
            pending: Vec::new(),
            pending_at: 0,
        }
    }

    /// Writes what is left of a replacement response.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.pending_at < self.pending.len() {
            let n = std::task::ready!(
                Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.pending_at..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending_at += n;
            self.activity.wrote();
        }
        self.pending.clear();
        self.pending_at = 0;
        Poll::Ready(Ok(()))
    }

    /// When `head` is hyper's own error response, queues its JSON version
    /// and says how many bytes of hyper's to report written.
    fn replace_automatic(&mut self, cx: &mut Context<'_>, head: &[u8]) -> Option<usize> {
        if !head.starts_with(b"HTTP/1.") {
            return None;
        }
        let status: u16 = std::str::from_utf8(head.get(9..12)?).ok()?.parse().ok()?;
        {
            let mut s = self.activity.lock();
            if s.in_flight > 0 || status < 200 {
                return None;
            }
            // The head of a response to a request the application received.
            if s.answered < s.dispatched {
                s.answered += 1;
                return None;
            }
        }
        self.pending = super::limits::automatic_response(status)?;
        self.pending_at = 0;
        // Written now if the socket takes it, else on the flush hyper does next.
        let _ = self.poll_pending(cx);
        Some(head.len())
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        if let Some(n) = self.replace_automatic(cx, buf) {
            return Poll::Ready(Ok(n));
        }
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        if self.activity.lock().in_flight == 0 {
            let whole: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            if let Some(n) = self.replace_automatic(cx, &whole) {
                return Poll::Ready(Ok(n));
            }
        }
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(30),
            stall: Duration::from_secs(90),
            ..Default::default()
        }
    }

    #[test]
    fn watchdog_rules() {
        let l = limits();
        let a = Arc::new(Activity::new());
        let ms = Duration::from_millis(1);
        let idle = a.deadline(&l);
        assert_eq!(a.expired(&l, idle - ms), None);
        assert_eq!(a.expired(&l, idle), Some("idle_timeout"));
        a.read();
        let head = a.deadline(&l);
        assert!(
            head + l.idle - l.header_read - ms <= idle + ms,
            "a head started: 10 s, not 30"
        );
        assert_eq!(a.expired(&l, head - ms), None);
        assert_eq!(a.expired(&l, head), Some("header_timeout"));
        let guard = InFlight::begin(&a);
        let stall = a.deadline(&l);
        assert_eq!(a.expired(&l, stall - ms), None);
        assert_eq!(a.expired(&l, stall), Some("stalled"));
        assert!(stall >= head + l.stall - l.header_read);
        drop(guard);
        let again = a.deadline(&l);
        assert!(
            again >= idle && again <= Instant::now() + l.idle,
            "idle from the end of the request"
        );
    }

    /// A head that starts during the idle wait is cut at the header
    /// timeout, not at the (later) idle deadline the watchdog slept until.
    #[tokio::test]
    async fn a_slow_head_is_closed_at_the_header_timeout() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = ConnectionLimits {
            header_read: Duration::from_millis(200),
            idle: Duration::from_secs(20),
            ..limits()
        };
        let app = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        tokio::spawn(serve(listener, app, limits, std::future::pending()));
        let mut client = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(10), client.read(&mut buf)).await;
        let waited = started.elapsed();
        assert!(
            matches!(read, Ok(Ok(0) | Err(_))),
            "closed without an answer: {read:?}"
        );
        assert!(
            waited < Duration::from_secs(5),
            "closed after {waited:?}, the idle timeout is 20 s"
        );
    }
}
