//! `gridmap board --fetch-photos`: workers' photos recorded as URLs,
//! downloaded once per run.
//!
//! Only `http` and `https` URLs are fetched, each within [`TIMEOUT`] and
//! [`MAX_PHOTO_BYTES`]; a failure is the reason printed in the summary of
//! missing photos, never the end of the run. An atlas asks for a URL once:
//! answers (and failures) are kept for the rest of the run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gridmap_print::{PhotoFetcher, MAX_PHOTO_BYTES};

/// The longest one photo may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// A fetcher over one HTTP agent (connections are reused across photos).
pub fn fetcher() -> PhotoFetcher {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .user_agent(concat!("gridmap/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let seen: Mutex<HashMap<String, Result<Vec<u8>, String>>> = Mutex::new(HashMap::new());
    Arc::new(move |url: &str| {
        if let Some(answer) = seen.lock().expect("no fetch panics holding it").get(url) {
            return answer.clone();
        }
        let answer = fetch(&agent, url);
        match &answer {
            Ok(bytes) => tracing::debug!(url, bytes = bytes.len(), "photo fetched"),
            Err(e) => tracing::debug!(url, error = %e, "photo not fetched"),
        }
        seen.lock()
            .expect("no fetch panics holding it")
            .insert(url.to_string(), answer.clone());
        answer
    })
}

fn fetch(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, String> {
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!("{url}: only http and https photos are fetched"));
    }
    let mut response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::StatusCode(status) => format!("{url}: HTTP {status}"),
        other => format!("{url}: {other}"),
    })?;
    response
        .body_mut()
        .with_config()
        // One byte more than allowed, so an oversized photo is told apart.
        .limit(MAX_PHOTO_BYTES + 1)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                format!("{url}: more than the {MAX_PHOTO_BYTES} bytes a board embeds")
            }
            other => format!("{url}: {other}"),
        })
}
