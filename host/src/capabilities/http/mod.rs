//! Outbound HTTP (`wasi:http`): deny by default; every request of a guest is
//! checked, sent by the host itself, capped and logged.
//!
//! For each request (so for each hop of a redirect the guest follows, since
//! `wasi:http` never follows redirects by itself):
//!
//! 1. [`OutboundPolicy::check`]: the run's request count, then the manifest's
//!    `allowed_hosts` rules ([`crate::manifest::HostRule`]: scheme, host with
//!    wildcards, port, method, path prefix), then the declared body size.
//! 2. [`connect::resolve`]: the host resolves the name itself and refuses
//!    the addresses of [`blocked`] (IANA's special-purpose ranges that are not
//!    globally reachable, multicast, metadata endpoints; IPv6 addresses that
//!    embed an internal IPv4 address), unless the allowing rule names the IP (or `localhost`) literally or the
//!    operator trusts that network ([`OutboundLimits::trusted_networks`]).
//! 3. [`connect::send`]: the connection goes to that checked address (no
//!    second lookup, so DNS rebinding gains nothing), TLS is verified against
//!    the name, timeouts are the run's remaining time budget.
//! 4. [`body`]: the request body and the response body are capped; a response
//!    over the cap is cut with an error, never buffered whole.
//! 5. [`credentials`]: a request naming a sealed credential (`ferry-credential`
//!    header) gets the secret's value added, only toward the credential's hosts.
//! 6. Each request, sent or refused, becomes a row of the transmission log
//!    ([`crate::store::Transmission`]).
//!
//! When a scenario runs on a [`Tape`] ([`crate::cassette`]), a request the
//! rules allow is answered from the cassette (replay: nothing reaches the
//! network; a request with no recording is refused, naming it) or sent and
//! kept (record), before step 5: a sealed credential is never on tape.
//!
//! Refusals reach the guest as `internal-error("request denied: …")`, which the
//! SDK turns into a `denied` error carrying the reason.

mod blocked;
mod body;
mod connect;
pub mod credentials;
pub mod limits;
mod taped;
mod transmission;

pub use limits::OutboundLimits;

use super::capability::{Capability, HasCapability, Setup};
use super::context::RunContext;
use crate::cassette::{Tape, TapeMode};
use crate::engine::config::EngineConfig;
use crate::manifest::{Capabilities, Credential, HostMatch, HostRule, Target};
use crate::metrics::Refusal;
use crate::secrets::Vault;
use crate::store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tracing::Instrument;
use transmission::{Logger, RunInfo, redacted};
use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::LinkOptions;
use wasmtime_wasi_http::p2::bindings::http::{outgoing_handler, types as http_types};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttp, WasiHttpCtx, WasiHttpCtxView,
    WasiHttpHooks,
};

/// Outbound `wasi:http`, checked by an [`OutboundPolicy`] per instance.
pub struct Http;

/// What the instances of a run share of outbound HTTP.
#[derive(Debug, Default)]
pub struct HttpRun {
    /// Set when a remote answered 429 or 503 during the run: only then may
    /// a `Retry-After` snooze the whole instance (see [`crate::queue::retry`]).
    pub(crate) remote_asked_to_wait: Arc<AtomicBool>,
}

/// The configuration of outbound HTTP: the operator's caps, and the tape a
/// scenario runs on, if any.
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Caps and trusted networks.
    pub limits: Arc<OutboundLimits>,
    /// The cassette being recorded or replayed ([`EngineConfig::tape`]).
    pub tape: Option<Arc<Tape>>,
}

/// One instance's `wasi:http`: its context and its policy.
pub struct HttpState {
    ctx: WasiHttpCtx,
    policy: OutboundPolicy,
}

impl Capability for Http {
    type Config = HttpConfig;
    type RunState = HttpRun;
    type State = HttpState;

    fn config(engine: &EngineConfig, _store: &Store) -> Self::Config {
        HttpConfig {
            limits: Arc::new(engine.outbound.clone()),
            tape: engine.tape.clone(),
        }
    }

    fn run_state(_config: &Self::Config, _run: &RunContext) -> HttpRun {
        HttpRun::default()
    }

    fn state(setup: &mut Setup<'_, Self>) -> HttpState {
        let policy = match (&setup.instance.run, setup.run, setup.manifest) {
            (Some(run), Some((config, http_run)), Some(manifest)) => {
                OutboundPolicy::for_run(run, &setup.instance.module, manifest, config, http_run)
            }
            _ => OutboundPolicy::deny_all(),
        };
        HttpState {
            ctx: WasiHttpCtx::new(),
            policy,
        }
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        fn http<T: HasCapability<Http>>(data: &mut T) -> WasiHttpCtxView<'_> {
            let view = data.view();
            WasiHttpCtxView {
                ctx: &mut view.state.ctx,
                table: view.table,
                hooks: &mut view.state.policy,
            }
        }
        outgoing_handler::add_to_linker::<_, WasiHttp>(linker, http::<T>)?;
        let options = LinkOptions::default();
        http_types::add_to_linker::<_, WasiHttp>(linker, &options.into(), http::<T>)?;
        Ok(())
    }
}

/// What one instance of a module may reach over HTTP, and until when.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    rules: Arc<Vec<HostRule>>,
    deadline: Option<Instant>,
    limits: Arc<OutboundLimits>,
    run: Option<Arc<RunInfo>>,
    sent: u32,
    credentials: Arc<Vec<Credential>>,
    vault: Arc<Vault>,
    tape: Option<Arc<Tape>>,
}

/// What [`OutboundPolicy::check`] lets through.
#[derive(Debug)]
struct Grant {
    host: String,
    port: u16,
    tls: bool,
    /// An allowing rule names this very host (an IP, or `localhost`): the
    /// address checks do not apply.
    literal: bool,
}

impl OutboundPolicy {
    /// The policy of `module` (with these capabilities) in the run `run`;
    /// entries that cannot be filled in are logged to the run and ignored.
    fn for_run(
        run: &RunContext,
        module: &str,
        capabilities: &Capabilities,
        config: &HttpConfig,
        http_run: &HttpRun,
    ) -> Self {
        let (rules, problems) = capabilities.host_rules(&run.params);
        let (credentials, more) = capabilities.credentials(&run.params);
        for problem in problems.into_iter().chain(more) {
            run.log("warn", module, &problem);
        }
        OutboundPolicy {
            credentials: Arc::new(credentials),
            vault: run.vault.clone(),
            rules: Arc::new(rules),
            deadline: Some(run.deadline),
            limits: config.limits.clone(),
            tape: config.tape.clone(),
            run: Some(Arc::new(RunInfo {
                store: run.store.clone(),
                instance: run.instance.name.clone(),
                job_id: run.job.as_ref().map(|j| j.id),
                module: module.to_string(),
                asked_to_wait: http_run.remote_asked_to_wait.clone(),
            })),
            sent: 0,
        }
    }

    /// Nothing allowed (used while a module is described at install).
    fn deny_all() -> Self {
        Self::default()
    }

    /// Check a request against the count cap and the rules, and the
    /// credential it asks for against the credential's hosts.
    fn check(
        &mut self,
        request: &http::Request<WasiBody>,
        asked: Option<&str>,
    ) -> Result<(Grant, Option<Credential>), String> {
        self.sent += 1;
        let max = self.limits.max_requests;
        if self.sent > max {
            return Err(format!(
                "more than {max} requests in one invocation (max_requests)"
            ));
        }
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
        let tls = match scheme.as_str() {
            "https" => true,
            "http" => false,
            other => return Err(format!("scheme `{other}` is not allowed")),
        };
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err("the request has no host".into());
        }
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let target = Target {
            method: request.method().as_str(),
            scheme: &scheme,
            host: &host,
            port,
            path: uri.path(),
        };
        let origin = |host: &str| {
            if host.contains(':') {
                format!("{scheme}://[{host}]:{port}")
            } else {
                format!("{scheme}://{host}:{port}")
            }
        };
        let same_origin: Vec<&HostRule> = self
            .rules
            .iter()
            .filter(|r| r.matches_origin(&target))
            .collect();
        if same_origin.is_empty() {
            return Err(format!(
                "{} is not in the manifest's allowed_hosts",
                origin(&host)
            ));
        }
        let allowing: Vec<&HostRule> = same_origin
            .iter()
            .copied()
            .filter(|r| r.allows(&target))
            .collect();
        if allowing.is_empty() {
            let rules: Vec<String> = same_origin.iter().map(|r| r.to_string()).collect();
            return Err(format!(
                "{} {} on {} is not allowed by allowed_hosts ({})",
                target.method,
                target.path,
                origin(&host),
                rules.join(", ")
            ));
        }
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if let Some(n) = declared.filter(|n| *n > self.limits.max_request_body) {
            return Err(format!(
                "request body of {n} bytes is over the limit of {} bytes (max_request_body)",
                self.limits.max_request_body
            ));
        }
        let literal = allowing.iter().any(|r| match &r.host {
            HostMatch::Ip(_) => true,
            HostMatch::Name(name) => connect::is_localhost(name),
            _ => false,
        });
        let credential = match asked {
            Some(name) => {
                Some(credentials::choose(&self.credentials, name, &target, &origin(&host))?.clone())
            }
            None => None,
        };
        let grant = Grant {
            host,
            port,
            tls,
            literal,
        };
        Ok((grant, credential))
    }
}

/// A refusal as the guest sees it.
fn denied(reason: &str) -> HttpError {
    HttpError::InternalError(Some(format!("request denied: {reason}")))
}

type BoxedIo = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
type SendFuture =
    Box<dyn Future<Output = Result<(http::Response<WasiBody>, BoxedIo), HttpError>> + Send>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: BoxedIo,
    ) -> SendFuture {
        let logger = self
            .run
            .as_ref()
            .map(|run| Logger::new(run, &self.vault, &request));
        let decision = credentials::asked(&mut request)
            .and_then(|asked| self.check(&request, asked.as_deref()));
        let vault = self.vault.clone();
        let limits = self.limits.clone();
        let deadline = self.deadline;
        let url = redacted(request.uri());
        let asked_to_wait = self.run.as_ref().map(|r| r.asked_to_wait.clone());
        let tape = self.tape.clone();
        // A child of the guest's call (its job's trace); the future runs on
        // wasmtime-wasi-http's own task, so the span goes with it.
        let span = tracing::info_span!(
            "outbound request",
            method = %request.method(),
            host = request.uri().host().unwrap_or_default(),
            status = tracing::field::Empty,
        );
        Box::new(
            async move {
                let refuse = async |logger: Option<Logger>, kind: Refusal, reason: String| {
                    tracing::info!(url, "outbound request refused: {reason}");
                    if let Some(logger) = logger {
                        logger.finish(0, Some((kind, reason.clone())), None).await;
                    }
                    Err(denied(&reason))
                };
                let (grant, credential) = match decision {
                    Ok(decided) => decided,
                    Err(reason) => return refuse(logger, Refusal::Policy, reason).await,
                };
                // On tape: answered from the cassette, or sent and kept.
                let mut recording = None;
                if let Some(tape) = tape {
                    let read = taped::read_request(request, limits.max_request_body).await;
                    let (parts, bytes) = match read {
                        Ok(read) => read,
                        Err(error) => {
                            if let Some(logger) = logger {
                                logger.finish(0, None, Some(error.to_string())).await;
                            }
                            return Err(error);
                        }
                    };
                    let asked = taped::recorded_request(&parts, &bytes, tape.redactor());
                    if let TapeMode::Replay { .. } = tape.mode() {
                        let Some(recorded) = tape.play(&asked) else {
                            let reason = format!(
                                "no recorded response for {} in the cassette (replay; record \
                                 again with `ferry test DIR --record` if the change is meant)",
                                asked.line()
                            );
                            return refuse(logger, Refusal::Policy, reason).await;
                        };
                        let received = recorded.body.as_ref().map_or(0, |b| b.bytes().len());
                        if let Some(mut logger) = logger {
                            logger.row.status = Some(i64::from(recorded.status));
                            logger.sent.store(bytes.len() as u64, Ordering::Relaxed);
                            logger.finish(received as u64, None, None).await;
                        }
                        let io: BoxedIo = Box::new(async { Ok(()) });
                        return Ok((taped::response(&recorded), io));
                    }
                    request = http::Request::from_parts(parts, taped::full(bytes));
                    recording = Some((tape, asked));
                }
                if let Some(credential) = credential {
                    let presented = match vault.value(&credential.secret).await {
                        Ok(value) => {
                            credentials::present(&mut request, &credential.presentation, &value)
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = presented {
                        let reason = format!("credential `{}`: {e}", credential.name);
                        return refuse(logger, Refusal::Credential, reason).await;
                    }
                }
                let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                if remaining == Some(Duration::ZERO) {
                    let reason = "the run's time budget is spent".into();
                    return refuse(logger, Refusal::Budget, reason).await;
                }
                let cap = |t: Option<Duration>| match (t, remaining) {
                    (Some(t), Some(r)) => t.min(r),
                    (t, r) => t.or(r).unwrap_or(Duration::from_secs(600)),
                };
                let options = options.unwrap_or_default();
                let timeouts = connect::Timeouts {
                    connect: cap(options.connect_timeout),
                    first_byte: cap(options.first_byte_timeout),
                    between_bytes: cap(options.between_bytes_timeout),
                };
                let resolved = connect::resolve(
                    &grant.host,
                    grant.port,
                    grant.literal,
                    &limits.trusted_networks,
                    timeouts.connect,
                )
                .await;
                let addr = match resolved {
                    Ok(addr) => addr,
                    Err(connect::Refusal::Denied(reason)) => {
                        return refuse(logger, Refusal::Address, reason).await;
                    }
                    Err(connect::Refusal::Failed(error)) => {
                        if let Some(logger) = logger {
                            logger.finish(0, None, Some(error.to_string())).await;
                        }
                        return Err(error);
                    }
                };
                let sent = logger.as_ref().map(|l| l.sent.clone()).unwrap_or_default();
                let max_body = limits.max_request_body;
                let request = request.map(|b| body::RequestBody::wrap(b, sent.clone(), max_body));
                match connect::send(request, addr, &grant.host, grant.tls, &timeouts).await {
                    Ok((response, io)) => {
                        tracing::Span::current().record("status", response.status().as_u16());
                        let mut logger = logger;
                        if let Some(l) = logger.as_mut() {
                            l.row.status = Some(i64::from(response.status().as_u16()));
                        }
                        if matches!(response.status().as_u16(), 429 | 503)
                            && let Some(flag) = &asked_to_wait
                        {
                            flag.store(true, Ordering::Relaxed);
                        }
                        let response = response.map(|incoming| {
                            body::ResponseBody::wrap(
                                incoming,
                                limits.max_response_body,
                                timeouts.between_bytes,
                                deadline,
                                logger,
                            )
                        });
                        let Some((tape, asked)) = recording else {
                            return Ok((response, io));
                        };
                        let (response, recorded) =
                            taped::read_response(response, tape.redactor()).await?;
                        tape.keep(asked, recorded);
                        Ok((response, io))
                    }
                    Err(error) => {
                        let error = if sent.load(Ordering::Relaxed) > max_body {
                            HttpError::HttpRequestBodySize(Some(max_body))
                        } else {
                            error
                        };
                        if let Some(logger) = logger {
                            logger.finish(0, None, Some(error.to_string())).await;
                        }
                        Err(error)
                    }
                }
            }
            .instrument(span),
        )
    }
}
