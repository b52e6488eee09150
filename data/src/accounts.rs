//! Accounts and their API tokens.
//!
//! An account has a name and a [`Role`]; it proves itself with a bearer token
//! that gridmap makes once ([`new_token`]) and shows once. The store keeps only
//! the token's SHA-256 ([`token_hash`]): the token is 256 random bits, so a
//! fast hash is as strong as a slow password hash would be (there is no
//! dictionary to try), and every request can be checked with one indexed
//! lookup instead of a deliberately slow KDF.
//!
//! ```
//! use gridmap_data::accounts::{new_token, token_hash, Role};
//! let token = new_token();
//! assert!(token.starts_with("gm_") && token.len() == 3 + 64);
//! assert_eq!(token_hash(&token), token_hash(&token));
//! assert_ne!(token_hash(&token), token_hash(&new_token()));
//! assert!(Role::Approver > Role::Editor && Role::Editor > Role::Viewer);
//! assert_eq!("approver".parse::<Role>().unwrap(), Role::Approver);
//! ```

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What an account may do; roles are ordered, each includes the ones below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything, the registers' full rows included.
    Viewer,
    /// Drafts proposals and edits them.
    Editor,
    /// Publishes or rejects proposals, reverts published changes.
    Approver,
    /// Everything, the audit log included.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Editor, Role::Approver, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`; one of viewer, editor, approver, admin"))
    }
}

/// An account as the store keeps it (never the token itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub role: Role,
    /// RFC 3339, UTC.
    pub created: String,
    /// When the account was revoked; a revoked account's token opens nothing.
    pub revoked: Option<String>,
}

/// A new token: `gm_` and 64 hex digits (256 bits from the operating
/// system's random source through rand's CSPRNG).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("gm_{}", hex(&bytes))
}

/// The SHA-256 of a token, in hex: what the store keeps and looks up.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Account names: 1–64 letters, digits, `_`, `-`, `.` or `@` (CJK letters
/// allowed), so they print safely in logs and the audit table.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@');
    if name.is_empty() || name.chars().count() > 64 || !name.chars().all(ok_char) {
        return Err(format!(
            "account name `{name}` must be 1–64 letters, digits, `_`, `-`, `.` or `@`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("王芳").is_ok());
        assert!(validate_name("planner-1@xihu").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name("x\n").is_err());
        assert!(validate_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!("root".parse::<Role>().is_err());
    }
}
