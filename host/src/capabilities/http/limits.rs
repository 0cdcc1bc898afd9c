//! [`OutboundLimits`]: the operator's settings of outbound HTTP (a module of
//! its own: the engine configuration holds them).

/// Outbound caps of one invocation, and the networks the operator trusts.
#[derive(Debug, Clone)]
pub struct OutboundLimits {
    /// Requests one invocation may make (refused past it).
    pub max_requests: u32,
    /// Bytes of one request body.
    pub max_request_body: u64,
    /// Bytes of one response body (cut with an error past it).
    pub max_response_body: u64,
    /// Private or loopback networks guests may reach through any allowed name
    /// (an intranet the operator vouches for). Empty by default.
    pub trusted_networks: Vec<ipnet::IpNet>,
}

impl Default for OutboundLimits {
    /// 1,000 requests, 8 MiB request bodies, 16 MiB response bodies, no trusted network.
    fn default() -> Self {
        OutboundLimits {
            max_requests: 1_000,
            max_request_body: 8 << 20,
            max_response_body: 16 << 20,
            trusted_networks: Vec::new(),
        }
    }
}
