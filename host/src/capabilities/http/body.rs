//! Bodies of outbound requests: the request body counted and capped on its
//! way out; the response body capped, bounded in time, and logged when it ends.

use super::transmission::Logger;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::time::Sleep;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// A guest's request body, counted into `sent`; past `max` bytes it fails.
pub(super) struct RequestBody {
    inner: WasiBody,
    sent: Arc<AtomicU64>,
    max: u64,
}

impl RequestBody {
    pub(super) fn wrap(inner: WasiBody, sent: Arc<AtomicU64>, max: u64) -> Self {
        RequestBody { inner, sent, max }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let frame = std::task::ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
            let len = data.map_or(0, |d| d.len() as u64);
            let total = self.sent.fetch_add(len, Ordering::Relaxed) + len;
            if total > self.max {
                return Poll::Ready(Some(Err(HttpError::HttpRequestBodySize(Some(self.max)))));
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

type Finish = Pin<Box<dyn Future<Output = ()> + Send>>;
type FrameResult = Option<Result<Frame<Bytes>, HttpError>>;

/// A response body as the guest reads it: cut past `max` bytes, failed when
/// the sender stalls longer than `between` or the run's deadline passes.
/// When it ends, its row of the transmission log is written before the guest
/// sees the end.
pub(super) struct ResponseBody {
    inner: Option<hyper::body::Incoming>,
    received: u64,
    max: u64,
    between: Duration,
    idle: Pin<Box<Sleep>>,
    deadline: Option<Pin<Box<Sleep>>>,
    logger: Option<Logger>,
    finishing: Option<(Finish, FrameResult)>,
}

impl ResponseBody {
    pub(super) fn wrap(
        inner: hyper::body::Incoming,
        max: u64,
        between: Duration,
        deadline: Option<Instant>,
        logger: Option<Logger>,
    ) -> WasiBody {
        ResponseBody {
            inner: Some(inner),
            received: 0,
            max,
            between,
            idle: Box::pin(tokio::time::sleep(between)),
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            logger,
            finishing: None,
        }
        .boxed_unsync()
    }

    /// End the body with `result` once the log row is written.
    fn finish(&mut self, result: FrameResult) {
        self.inner = None;
        let error = match &result {
            Some(Err(e)) => Some(e.to_string()),
            _ => None,
        };
        let write: Finish = match self.logger.take() {
            Some(logger) => Box::pin(logger.finish(self.received, None, error)),
            None => Box::pin(async {}),
        };
        self.finishing = Some((write, result));
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        loop {
            if let Some((write, result)) = this.finishing.as_mut() {
                std::task::ready!(write.as_mut().poll(cx));
                let result = result.take();
                return Poll::Ready(result);
            }
            let Some(inner) = this.inner.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                    this.received += len;
                    if this.received > this.max {
                        let max = this.max;
                        this.received = max;
                        this.finish(Some(Err(HttpError::InternalError(Some(format!(
                            "response body cut at {max} bytes: it is over the limit of {max} bytes (max_response_body)"
                        ))))));
                        continue;
                    }
                    let next = tokio::time::Instant::now() + this.between;
                    this.idle.as_mut().reset(next);
                    return Poll::Ready(Some(Ok(frame)));
                }
                Poll::Ready(Some(Err(e))) => {
                    let e = if e.is_timeout() {
                        HttpError::HttpResponseTimeout
                    } else {
                        HttpError::from(e)
                    };
                    this.finish(Some(Err(e)));
                }
                Poll::Ready(None) => this.finish(None),
                Poll::Pending => {
                    if let Some(deadline) = this.deadline.as_mut()
                        && deadline.as_mut().poll(cx).is_ready()
                    {
                        this.finish(Some(Err(HttpError::InternalError(Some(
                            "the run's time budget ran out while reading the response".into(),
                        )))));
                    } else if this.idle.as_mut().poll(cx).is_ready() {
                        this.finish(Some(Err(HttpError::ConnectionReadTimeout)));
                    } else {
                        return Poll::Pending;
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        // Never ahead of `poll_frame`: the log row is written when it returns the end.
        self.finishing.is_none() && self.inner.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Some(b) if self.finishing.is_none() => b.size_hint(),
            _ => SizeHint::with_exact(0),
        }
    }
}

impl Drop for ResponseBody {
    /// A body the guest dropped before its end still gets its log row.
    fn drop(&mut self) {
        if let Some(logger) = self.logger.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(logger.finish(self.received, None, None));
        }
    }
}
