//! Who may call the API: bearer tokens and, optionally, HTTP basic users,
//! each with a role, stored as argon2 hashes (never the secret itself).
//!
//! A secret is checked against the hashes once; a match is remembered by the
//! secret's SHA-256 so later requests with it cost a hash-map lookup, not an
//! argon2 run. At most two argon2 checks run at a time, off the async
//! threads, so a flood of wrong tokens slows only itself.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// What a credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reads only: every `GET`.
    ReadOnly,
    /// Reads and actions: create, cancel, retry, pause, resume.
    Admin,
}

impl Role {
    /// `read-only` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::ReadOnly => "read-only",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read-only" | "readonly" | "read_only" => Ok(Role::ReadOnly),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: expected read-only or admin"
            )),
        }
    }
}

/// A bearer token as configured: its argon2 hash (a PHC string, as
/// [`hash_secret`] prints it) and its role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// The token's argon2 hash, `$argon2id$v=19$...`.
    pub hash: String,
    /// What the token may do.
    pub role: Role,
    /// A name for logs (optional).
    #[serde(default)]
    pub name: Option<String>,
}

/// A basic-auth user as configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    /// The user name.
    pub name: String,
    /// The password's argon2 hash.
    pub hash: String,
    /// What the user may do.
    pub role: Role,
}

/// The credentials a server accepts; the `[auth]` table of the binary's
/// configuration file:
///
/// ```toml
/// [[auth.tokens]]
/// name = "ci"
/// role = "read-only"
/// hash = "$argon2id$v=19$m=19456,t=2,p=1$..."
///
/// [[auth.users]]
/// name = "ops"
/// role = "admin"
/// hash = "$argon2id$v=19$m=19456,t=2,p=1$..."
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Bearer tokens (`Authorization: Bearer TOKEN`).
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
    /// Basic-auth users (`Authorization: Basic ...`).
    #[serde(default)]
    pub users: Vec<UserEntry>,
}

impl AuthConfig {
    /// No credential configured: the API is open (loopback only, for the
    /// binary).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.users.is_empty()
    }

    /// Checks every hash parses, so a typo refuses to start rather than
    /// locking everyone out at the first request.
    pub(crate) fn check(&self) -> Result<(), String> {
        for (i, token) in self.tokens.iter().enumerate() {
            PasswordHash::new(&token.hash).map_err(|err| {
                format!(
                    "token {} has a malformed hash: {err}",
                    token.name.clone().unwrap_or_else(|| format!("#{}", i + 1))
                )
            })?;
        }
        for user in &self.users {
            PasswordHash::new(&user.hash)
                .map_err(|err| format!("user {:?} has a malformed hash: {err}", user.name))?;
            if user.name.is_empty() || user.name.contains(':') {
                return Err(format!(
                    "user name {:?} must be non-empty and hold no ':'",
                    user.name
                ));
            }
        }
        Ok(())
    }
}

/// The argon2id hash (PHC string) of `secret`, with a fresh salt: what goes
/// in the configuration instead of the token or password.
pub fn hash_secret(secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

/// How many remembered secrets before the memory starts over.
const REMEMBERED: usize = 1024;

/// The checker the middleware holds.
pub(crate) struct Authenticator {
    config: AuthConfig,
    /// SHA-256 of a presented credential -> its role, once argon2 said yes.
    known: Mutex<HashMap<[u8; 32], Role>>,
    argon2_slots: Semaphore,
}

impl Authenticator {
    pub(crate) fn new(config: AuthConfig) -> Self {
        Authenticator {
            config,
            known: Mutex::new(HashMap::new()),
            argon2_slots: Semaphore::new(2),
        }
    }

    /// The role `authorization` (the header's value) grants, if any. A
    /// credential seen before costs one SHA-256 and a lookup.
    async fn role(&self, authorization: &str) -> Option<Role> {
        let (scheme, value) = authorization.trim().split_once(' ')?;
        let value = value.trim();
        // The credential as presented (a token, or `user:password`), and
        // the user it names for basic auth.
        let (bearer, credential) = if scheme.eq_ignore_ascii_case("bearer") {
            (true, value.to_string())
        } else if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value)
                .ok()?;
            (false, String::from_utf8(decoded).ok()?)
        } else {
            return None;
        };
        let key: [u8; 32] = Sha256::new()
            .chain_update(if bearer { b"bearer\0" } else { b"basic\0\0" })
            .chain_update(credential.as_bytes())
            .finalize()
            .into();
        if let Some(role) = self.known.lock().expect("not poisoned").get(&key) {
            return Some(*role);
        }
        let (hashes, secret): (Vec<(String, Role)>, String) = if bearer {
            let hashes = self.config.tokens.iter().map(|t| (t.hash.clone(), t.role));
            (hashes.collect(), credential)
        } else {
            let (name, password) = credential.split_once(':')?;
            let users = self.config.users.iter().filter(|u| u.name == name);
            let hashes = users.map(|u| (u.hash.clone(), u.role));
            (hashes.collect(), password.to_string())
        };
        if hashes.is_empty() {
            return None;
        }
        let _slot = self.argon2_slots.acquire().await.ok()?;
        let role = tokio::task::spawn_blocking(move || {
            hashes.iter().find_map(|(hash, role)| {
                let parsed = PasswordHash::new(hash).ok()?;
                Argon2::default()
                    .verify_password(secret.as_bytes(), &parsed)
                    .ok()
                    .map(|()| *role)
            })
        })
        .await
        .ok()??;
        let mut known = self.known.lock().expect("not poisoned");
        if known.len() >= REMEMBERED {
            known.clear();
        }
        known.insert(key, role);
        Some(role)
    }

    fn challenge(&self) -> HeaderValue {
        HeaderValue::from_static(if self.config.users.is_empty() {
            "Bearer realm=\"hammerwork\""
        } else {
            "Bearer realm=\"hammerwork\", Basic realm=\"hammerwork\""
        })
    }
}

/// 401 without a credential that matches, 403 when a read-only one asks for
/// an action. `OPTIONS` (a CORS preflight) passes: it carries no credential.
pub(crate) async fn require(
    State(auth): State<Arc<Authenticator>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let role = match presented {
        Some(value) => auth.role(value).await,
        None => None,
    };
    let Some(role) = role else {
        let mut response = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            if presented.is_some() {
                "the credential was not accepted"
            } else {
                "this API needs Authorization: Bearer TOKEN"
            },
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, auth.challenge());
        return response;
    };
    let reads = matches!(*request.method(), Method::GET | Method::HEAD);
    if !reads && role != Role::Admin {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "a {} credential may only read; this needs admin",
                role.as_str()
            ),
        )
        .into_response();
    }
    next.run(request).await
}
