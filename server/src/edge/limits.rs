//! Per-client-address rate limits on what calls Mesh or writes, so one client cannot spend the
//! app's Mesh quota or fill its database: a refusal is a 429 with `Retry-After` and a sentence.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::server_fns::{Limit, ServerFnRule};
use super::{Refusal, RefusalKind};
use crate::config::RateLimitSettings;
use axum::extract::ConnectInfo;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// The pages that call Mesh while they render (a portfolio: three calls), by path prefix; each
/// is limited like a server function, with a limiter of its own.
pub const LIMITED_PAGES: &[&str] = &["/accounts/"];

/// What one limiter guards, a server function (`POST`) or a page (`GET`), and its kind of limit.
fn limited_routes(
    server_fns: &'static [ServerFnRule],
) -> impl Iterator<Item = (Method, &'static str, Limit)> {
    server_fns
        .iter()
        .filter(|rule| rule.limit != Limit::None)
        .map(|rule| (Method::POST, rule.path, rule.limit))
        .chain(
            LIMITED_PAGES
                .iter()
                .map(|prefix| (Method::GET, *prefix, Limit::PerAddress)),
        )
}

/// One limiter per endpoint, keyed by client address.
pub struct RateLimits {
    routes: Vec<(Method, &'static str, Limit)>,
    limiters: Vec<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Vec<IpAddr>,
}

impl RateLimits {
    /// A limiter per limited route (the limited `server_fns` and [`LIMITED_PAGES`]) under
    /// `settings`, and a task that forgets idle addresses every minute so the table does not
    /// grow without end. Call it inside the Tokio runtime.
    pub fn start(settings: &RateLimitSettings, server_fns: &'static [ServerFnRule]) -> Arc<Self> {
        let count = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let quota = |limit| match limit {
            Limit::PerAddressHourly => Quota::per_hour(count(settings.reports_per_hour))
                .allow_burst(count(RateLimitSettings::REPORTS_BURST)),
            Limit::PerAddress | Limit::None => {
                Quota::per_minute(count(settings.per_minute)).allow_burst(count(settings.burst))
            }
        };
        let routes: Vec<_> = limited_routes(server_fns).collect();
        let limits = Arc::new(Self {
            limiters: routes
                .iter()
                .map(|(_, _, limit)| DefaultKeyedRateLimiter::keyed(quota(*limit)))
                .collect(),
            routes,
            trusted_proxies: settings.trusted_proxies.clone(),
        });
        let weak = Arc::downgrade(&limits);
        tokio::spawn(async move {
            let mut every_minute = tokio::time::interval(Duration::from_secs(60));
            loop {
                every_minute.tick().await;
                let Some(limits) = weak.upgrade() else { break };
                for limiter in &limits.limiters {
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                }
            }
        });
        limits
    }

    /// The client's address: the connection's peer, unless the peer is a trusted proxy
    /// (`TRUSTED_PROXIES`); then the last address in `X-Forwarded-For` that is not a trusted
    /// proxy itself. From anyone else `X-Forwarded-For` is ignored, so it cannot be forged.
    fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|value| value.to_str().unwrap_or("unreadable").split(','))
            .collect();
        // From the right: each entry was appended by the hop after it. The first address that is
        // not a trusted proxy is the client; an entry that is no address at all (`unknown`, a
        // host name) ends the walk at the last proxy that vouched for it, so nothing a client
        // wrote in front of it is believed.
        let mut last_hop = peer;
        for entry in entries.into_iter().rev() {
            let Some(address) = forwarded_address(entry) else {
                return Some(last_hop);
            };
            if !self.trusted_proxies.contains(&address) {
                return Some(address);
            }
            last_hop = address;
        }
        Some(last_hop)
    }
}

/// One `X-Forwarded-For` entry as proxies write it: `203.0.113.7`, `203.0.113.7:5555`,
/// `2001:db8::1` or `[2001:db8::1]:5555`.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| {
            let bracketed = entry.strip_prefix('[')?.strip_suffix(']')?;
            bracketed.parse().ok()
        })
}

/// The check (installed with `ValidateRequestHeaderLayer::custom`): answers 429 once a client
/// address is over the limit of a limited server function or page.
#[allow(
    clippy::result_large_err,
    reason = "`ValidateRequest` checks return the refusal itself; it is built only on refusal"
)]
pub fn rate_limit<B>(limits: &RateLimits, request: &Request<B>) -> Result<(), Response> {
    let (method, path) = (request.method(), request.uri().path());
    let page = matches!(*method, Method::GET | Method::HEAD);
    let Some(endpoint) = limits.routes.iter().position(|(limited, route, _)| {
        if page {
            limited == Method::GET && path.starts_with(route)
        } else {
            limited == method && path == *route
        }
    }) else {
        return Ok(());
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    // Without a peer address (a router served without connect info) every client shares one.
    let client = limits
        .client(peer, request.headers())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    limits.limiters[endpoint]
        .check_key(&client)
        .map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            too_many(wait.as_secs() + 1, page)
        })
}

/// The refusal: the sentence as a typed error for a server function, as text for a page.
fn too_many(retry_after_seconds: u64, page: bool) -> Response {
    let message = format!(
        "Too many requests from your network. Please wait {retry_after_seconds} seconds and try again."
    );
    let mut response = if page {
        (StatusCode::TOO_MANY_REQUESTS, message).into_response()
    } else {
        Refusal::new(RefusalKind::RateLimited, message).into_response()
    };
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(trusted: &[&str]) -> RateLimits {
        RateLimits {
            routes: Vec::new(),
            limiters: Vec::new(),
            trusted_proxies: trusted.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static(value));
        headers
    }

    fn ip(address: &str) -> Option<IpAddr> {
        Some(address.parse().unwrap())
    }

    #[test]
    fn x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let headers = forwarded("203.0.113.7");
        assert_eq!(
            limits(&[]).client(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
        assert_eq!(
            limits(&["10.0.0.2"]).client(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
        assert_eq!(
            limits(&["10.0.0.2"]).client(ip("10.0.0.2"), &headers),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn addresses_with_ports_count_and_anything_else_ends_the_walk() {
        let limits = limits(&["10.0.0.2"]);
        // A proxy that appends `ip:port`: the client is that address, never the one in front.
        let headers = forwarded("10.0.0.9, 198.51.100.7:5555");
        assert_eq!(limits.client(ip("10.0.0.2"), &headers), ip("198.51.100.7"));
        let headers = forwarded("10.0.0.9, [2001:db8::7]:5555");
        assert_eq!(limits.client(ip("10.0.0.2"), &headers), ip("2001:db8::7"));
        let headers = forwarded("10.0.0.9, [2001:db8::7]");
        assert_eq!(limits.client(ip("10.0.0.2"), &headers), ip("2001:db8::7"));
        // What is no address stops the walk at the proxy that wrote it.
        let headers = forwarded("203.0.113.50, unknown");
        assert_eq!(limits.client(ip("10.0.0.2"), &headers), ip("10.0.0.2"));
        let headers = forwarded("203.0.113.50, unknown, 10.0.0.2");
        assert_eq!(limits.client(ip("10.0.0.2"), &headers), ip("10.0.0.2"));
    }

    #[test]
    fn the_client_is_the_last_forwarded_address_that_is_not_a_trusted_proxy() {
        // The client may prepend anything; only what the trusted proxies appended counts.
        let headers = forwarded("1.2.3.4, 203.0.113.7, 10.0.0.3");
        let limits = limits(&["10.0.0.2", "10.0.0.3"]);
        assert_eq!(limits.client(ip("10.0.0.2"), &headers), ip("203.0.113.7"));
        assert_eq!(
            limits.client(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
    }
}
