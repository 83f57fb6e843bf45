//! Roles and tokens (service.md "Access"). A request carries `Authorization: Bearer TOKEN`; the
//! tokens file holds only SHA-256 digests of the tokens, with their role (and a member's user).
//!
//! **Invariant:** a token is compared with every known digest in constant time (`subtle`), so
//! the time an answer takes says nothing about how close a guess was; tokens never reach a log.

use std::path::Path;

use axum::http::HeaderMap;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// May do everything.
    Admin,
    /// May only post events.
    Device,
    /// May read what concerns its own user, the leaderboards and the challenge list.
    Member(String),
}

impl Principal {
    /// The role's name.
    pub fn role(&self) -> &'static str {
        match self {
            Principal::Admin => "admin",
            Principal::Device => "device",
            Principal::Member(_) => "member",
        }
    }

    /// Admins only.
    pub fn admin(&self) -> Result<(), ApiError> {
        match self {
            Principal::Admin => Ok(()),
            other => Err(ApiError::forbidden(format!(
                "this request needs the admin role; the token is a {}'s",
                other.role()
            ))),
        }
    }

    /// Admins, and the member whose user this is.
    pub fn admin_or_self(&self, user: &str) -> Result<(), ApiError> {
        match self {
            Principal::Admin => Ok(()),
            Principal::Member(me) if me == user => Ok(()),
            Principal::Member(_) => Err(ApiError::forbidden(
                "a member may read only its own user's data",
            )),
            Principal::Device => Err(ApiError::forbidden("a device may only post events")),
        }
    }

    /// Anyone but devices (the challenge list, leaderboards).
    pub fn reader(&self) -> Result<(), ApiError> {
        match self {
            Principal::Device => Err(ApiError::forbidden("a device may only post events")),
            _ => Ok(()),
        }
    }
}

/// One line of the tokens file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenLine {
    sha256: String,
    role: String,
    #[serde(default)]
    user: Option<String>,
}

/// The known tokens, or none (every request is admin; loopback only).
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    entries: Option<Vec<([u8; 32], Principal)>>,
}

/// Why a tokens file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct TokensError {
    path: String,
    line: usize,
    message: String,
}

impl Tokens {
    /// No tokens: every request is admin.
    pub fn open() -> Tokens {
        Tokens { entries: None }
    }

    /// Whether requests need tokens.
    pub fn required(&self) -> bool {
        self.entries.is_some()
    }

    /// Reads a tokens file (JSON Lines of `{"sha256", "role", "user"}`).
    pub fn read(path: &Path, text: &str) -> Result<Tokens, TokensError> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |message: String| TokensError {
                path: path.display().to_string(),
                line: i + 1,
                message,
            };
            let t: TokenLine = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
            let digest = parse_hex(&t.sha256)
                .ok_or_else(|| bad("`sha256` is not 64 hex digits".to_owned()))?;
            let principal = match (t.role.as_str(), t.user) {
                ("admin", None) => Principal::Admin,
                ("device", None) => Principal::Device,
                ("member", Some(user)) if !user.is_empty() => Principal::Member(user),
                ("member", _) => return Err(bad("a member token needs its `user`".to_owned())),
                ("admin" | "device", Some(_)) => {
                    return Err(bad("only a member token has a `user`".to_owned()))
                }
                (role, _) => {
                    return Err(bad(format!(
                        "unknown role `{role}`: admin, device or member"
                    )))
                }
            };
            entries.push((digest, principal));
        }
        Ok(Tokens {
            entries: Some(entries),
        })
    }

    /// Who a request is from: `401` without a known token (when tokens are required).
    pub fn principal(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let Some(entries) = &self.entries else {
            return Ok(Principal::Admin);
        };
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Every entry is compared, whatever matched, in constant time.
        let mut found: Option<&Principal> = None;
        for (known, principal) in entries {
            if bool::from(known.ct_eq(&digest)) {
                found = Some(principal);
            }
        }
        found.cloned().ok_or_else(ApiError::unauthorized)
    }
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = (*pair.first()? as char).to_digit(16)?;
        let lo = (*pair.get(1)? as char).to_digit(16)?;
        *o = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// A new random token (256 bits from the OS, hex) and its line for the tokens file.
pub fn new_token(role: &str, user: Option<&str>) -> Result<(String, String), String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| format!("no randomness from the OS: {e}"))?;
    let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let digest: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let line = match user {
        Some(user) => serde_json::json!({"sha256": digest, "role": role, "user": user}),
        None => serde_json::json!({"sha256": digest, "role": role}),
    };
    Ok((token, line.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = format!("Bearer {token}").parse() {
            h.insert(axum::http::header::AUTHORIZATION, v);
        }
        h
    }

    #[test]
    fn tokens_resolve_to_their_roles_and_unknown_ones_are_401() {
        let (admin, admin_line) = new_token("admin", None).unwrap();
        let (member, member_line) = new_token("member", Some("u-01")).unwrap();
        let tokens =
            Tokens::read(Path::new("t"), &format!("{admin_line}\n\n{member_line}\n")).unwrap();
        assert_eq!(
            tokens.principal(&headers(&admin)).unwrap(),
            Principal::Admin
        );
        assert_eq!(
            tokens.principal(&headers(&member)).unwrap(),
            Principal::Member("u-01".into())
        );
        assert_eq!(tokens.principal(&headers("nope")).unwrap_err().status, 401);
        assert_eq!(tokens.principal(&HeaderMap::new()).unwrap_err().status, 401);
        assert_eq!(admin.len(), 64, "256 bits in hex");
    }

    #[test]
    fn a_bad_tokens_file_names_its_line() {
        let e = Tokens::read(
            Path::new("t.jsonl"),
            "{\"sha256\": \"ab\", \"role\": \"admin\"}",
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "t.jsonl:1: `sha256` is not 64 hex digits");
        let line = format!(
            "{{\"sha256\": \"{}\", \"role\": \"member\"}}",
            "0".repeat(64)
        );
        let e = Tokens::read(Path::new("t.jsonl"), &line).unwrap_err();
        assert!(e.to_string().contains("needs its `user`"), "{e}");
    }

    #[test]
    fn roles_allow_what_service_md_says() {
        let member = Principal::Member("u-01".into());
        assert!(member.admin_or_self("u-01").is_ok());
        assert_eq!(member.admin_or_self("u-02").unwrap_err().status, 403);
        assert_eq!(Principal::Device.reader().unwrap_err().status, 403);
        assert_eq!(member.admin().unwrap_err().status, 403);
        assert!(Principal::Admin.admin_or_self("anyone").is_ok());
    }
}
