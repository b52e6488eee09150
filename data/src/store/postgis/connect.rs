//! From a `postgres://` URL to a connection pool, with the password found
//! where libpq would find it, and connection failures turned into one-line
//! messages that name what to fix.
//!
//! tokio-postgres reads neither `PGPASSWORD` nor `~/.pgpass` (libpq does, and
//! operators expect both), so [`config`] fills the password in: the URL's
//! own first, then `PGPASSWORD`, then the password file (`PGPASSFILE`, else
//! `~/.pgpass`; like libpq, a file readable by group or others is ignored).
//! The password is never part of a message: messages name the store by
//! [`crate::store::StoreLocation::display`].

use std::path::PathBuf;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, NoTls};

use crate::store::StoreError;

/// How long one connection attempt may take before the host counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a caller waits for a free pooled connection.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything a message says about where the database is.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The URL without its password.
    pub shown: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub dbname: String,
}

impl Target {
    pub(crate) fn open_error(&self, reason: impl Into<String>) -> StoreError {
        StoreError::Open {
            path: self.shown.clone(),
            reason: reason.into(),
        }
    }
}

/// The connection settings of `url`, the password completed from the
/// environment or the password file.
pub(crate) fn config(url: &str, shown: &str) -> Result<(Config, Target), StoreError> {
    let mut cfg: Config = url.parse().map_err(|e| StoreError::Open {
        path: shown.to_string(),
        reason: format!(
            "not a valid PostgreSQL URL ({e}); expected postgres://user@host:port/database"
        ),
    })?;
    if cfg.get_user().is_none() {
        // libpq's default: the operating-system user.
        if let Some(user) = std::env::var("PGUSER")
            .ok()
            .or_else(|| std::env::var("USER").ok())
        {
            cfg.user(user);
        }
    }
    let user = cfg.get_user().unwrap_or_default().to_string();
    let dbname = cfg.get_dbname().unwrap_or(&user).to_string();
    if cfg.get_dbname().is_none() {
        cfg.dbname(&dbname);
    }
    let host = match cfg.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => {
            cfg.host("localhost");
            "localhost".to_string()
        }
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    if cfg.get_password().is_none() {
        let found = std::env::var("PGPASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
            .or_else(|| pgpass_lookup(&host, port, &dbname, &user));
        if let Some(password) = found {
            cfg.password(password);
        }
    }
    cfg.application_name("gridmap");
    cfg.connect_timeout(CONNECT_TIMEOUT);
    let target = Target {
        shown: shown.to_string(),
        host,
        port,
        user,
        dbname,
    };
    Ok((cfg, target))
}

/// A pool of at most `size` connections; connections open lazily.
pub(crate) fn pool(cfg: Config, size: usize, target: &Target) -> Result<Pool, StoreError> {
    let manager = Manager::from_config(
        cfg,
        NoTls,
        ManagerConfig {
            // A pooled connection is checked on reuse only by whether it is
            // closed: a `SELECT 1` per checkout would double small requests.
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(WAIT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT + Duration::from_secs(1)))
        .build()
        .map_err(|e| target.open_error(format!("cannot set up the connection pool: {e}")))
}

/// The password file entry for this connection, as libpq reads it:
/// `host:port:database:user:password`, `*` matching anything, `\` escaping
/// `:` and `\`; the first matching line wins.
fn pgpass_lookup(host: &str, port: u16, dbname: &str, user: &str) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let meta = std::fs::metadata(&path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "password file {} is readable by group or others; ignored (chmod 0600 it)",
                path.display()
            );
            return None;
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(&path).ok()?;
    // A socket directory counts as `localhost`, as in libpq.
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    pgpass_match(&text, host, &port.to_string(), dbname, user)
}

fn pgpass_match(text: &str, host: &str, port: &str, dbname: &str, user: &str) -> Option<String> {
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        if fields.len() < 5 {
            continue;
        }
        let ok = |field: &str, value: &str| field == "*" || field == value;
        if ok(&fields[0], host)
            && ok(&fields[1], port)
            && ok(&fields[2], dbname)
            && ok(&fields[3], user)
        {
            // The password is the rest of the line, colons included.
            return Some(fields[4..].join(":"));
        }
    }
    None
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("never empty").push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

/// A failure to connect, as one line that names what to fix.
pub(crate) fn describe_connect_error(
    e: &deadpool_postgres::PoolError,
    target: &Target,
) -> StoreError {
    use deadpool_postgres::PoolError;
    let at = format!("{}:{}", target.host, target.port);
    let reason = match e {
        PoolError::Timeout(_) => format!(
            "PostgreSQL at {at} did not answer within {} s: check the host and port, and that the server is running",
            CONNECT_TIMEOUT.as_secs()
        ),
        PoolError::Backend(e) => describe_pg_error(e, target),
        other => other.to_string(),
    };
    target.open_error(reason)
}

pub(crate) fn describe_pg_error(e: &tokio_postgres::Error, target: &Target) -> String {
    let at = format!("{}:{}", target.host, target.port);
    let user = &target.user;
    let db = &target.dbname;
    if let Some(db_err) = e.as_db_error() {
        let code = db_err.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return format!(
                "PostgreSQL at {at} refused user `{user}` ({}): check the user name and the password (in the URL, PGPASSWORD or ~/.pgpass)",
                db_err.message()
            );
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return format!(
                "database `{db}` does not exist on {at}: create it (createdb {db}) or name another one in the URL"
            );
        }
        return format!("PostgreSQL at {at}: {}", db_err.message());
    }
    let text = e.to_string();
    if text.contains("password missing") {
        return format!(
            "PostgreSQL at {at} asks user `{user}` for a password: put it in PGPASSWORD or ~/.pgpass"
        );
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return format!(
                "cannot reach PostgreSQL at {at} ({io}): check the host and port, and that the server is running"
            );
        }
        source = s.source();
    }
    if text.contains("timed out") || text.contains("timeout") {
        return format!(
            "PostgreSQL at {at} did not answer: check the host and port, and that the server is running"
        );
    }
    format!("PostgreSQL at {at}: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_lines_match_like_libpq() {
        let text = "# comment\n\
                    other:5432:*:gm:nope\n\
                    db.example:5432:city:gm:se\\:cr\\\\et\n\
                    *:*:*:*:fallback:with:colons\n";
        assert_eq!(
            pgpass_match(text, "db.example", "5432", "city", "gm").as_deref(),
            Some("se:cr\\et")
        );
        assert_eq!(
            pgpass_match(text, "db.example", "5433", "city", "gm").as_deref(),
            Some("fallback:with:colons")
        );
        assert_eq!(pgpass_match("a:1:b:c\n", "a", "1", "b", "c"), None);
    }

    #[test]
    fn urls_fill_defaults_and_refuse_garbage() {
        let (cfg, t) = config("postgres://gm:pw@db.example:6543/city", "shown").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str(), t.dbname.as_str()),
            ("db.example", 6543, "gm", "city")
        );
        assert_eq!(cfg.get_password(), Some(&b"pw"[..]));
        let (_, t) = config("postgres://gm@db.example", "shown").unwrap();
        assert_eq!((t.port, t.dbname.as_str()), (5432, "gm"));
        let e = config(
            "postgres://gm@db.example:notaport/x",
            "postgres://gm@db.example:notaport/x",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not a valid PostgreSQL URL"), "{e}");
    }
}
