//! Authentication: HS256 JWTs (algorithm pinned, signature and expiry always checked) and
//! argon2id password hashes.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm as Argon2Algorithm, Argon2, Params, Version};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::{Password, Timestamp, Username};

/// Shortest signing secret accepted: HS256 wants at least the hash's 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;
/// Clock skew tolerated on `exp`/`iat`; Lambda hosts are NTP-synchronised.
const LEEWAY_SECONDS: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Forged, malformed, expired, or signed with another algorithm: all the same to a caller.
    #[error("the token is not valid")]
    InvalidToken,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the JWT signing secret must be at least {MIN_SECRET_BYTES} bytes")]
pub struct WeakSecret;

/// A token issued at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: Timestamp,
}

/// The signing and verifying keys, built once per cold start from the secret.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: i64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys").field("ttl_seconds", &self.ttl_seconds).finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Result<Self, WeakSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret);
        }
        // Only HS256 is accepted: a token that names another algorithm (`none`, RS256 with the
        // secret as a public key, ...) fails before its signature is even looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        // `exp` is checked in `verify`, against the one clock every function reads
        // (`Timestamp::now`), not by the library against the system's.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        })
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    pub fn issue(&self, username: &Username, now: Timestamp) -> IssuedToken {
        let expires_at = now.plus_seconds(self.ttl_seconds);
        let claims = Claims { sub: username.to_string(), iat: now.epoch_seconds(), exp: expires_at.epoch_seconds() };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail");
        IssuedToken { token, expires_at }
    }

    /// The username a valid token was issued to.
    pub fn verify(&self, token: &str) -> Result<Username, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AuthError::InvalidToken)?;
        if data.claims.exp.saturating_add(LEEWAY_SECONDS as i64) < Timestamp::now().epoch_seconds() {
            return Err(AuthError::InvalidToken);
        }
        Username::parse(data.claims.sub).map_err(|_| AuthError::InvalidToken)
    }
}

/// argon2id hashing with parameters sized for a Lambda function's CPU share.
///
/// 19 MiB of memory, 2 passes, 1 lane: OWASP's recommended minimum for argon2id. On a
/// 1024 MB Lambda (a bit over half a vCPU) one hash costs a few tens of milliseconds, so login
/// stays fast while an offline guess costs an attacker the same memory-hard work. One lane
/// because Lambda gives the function less than one core at this size.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    /// A hash of a random password, verified against when the user does not exist, so an
    /// unknown username costs the same time as a wrong password.
    decoy_hash: String,
}

pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
pub const ARGON2_ITERATIONS: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordHasher {
    pub fn new() -> Self {
        let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
            .expect("the argon2 parameters are within argon2's bounds");
        let argon = Argon2::new(Argon2Algorithm::Argon2id, Version::V0x13, params);
        let decoy = SaltString::generate(&mut OsRng);
        let decoy_hash = argon
            .hash_password(decoy.as_str().as_bytes(), &SaltString::generate(&mut OsRng))
            .expect("hashing a random password cannot fail")
            .to_string();
        Self { argon, decoy_hash }
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
    pub fn hash(&self, password: &Password) -> String {
        let salt = SaltString::generate(&mut OsRng);
        self.argon
            .hash_password(password.expose().as_bytes(), &salt)
            .expect("hashing with a fresh salt cannot fail")
            .to_string()
    }

    /// Constant-time check of `password` against a stored hash; `None` = no such user, which
    /// does the same work against a decoy and answers false.
    pub fn verify(&self, password: &Password, stored: Option<&str>) -> bool {
        let (phc, real) = match stored {
            Some(phc) => (phc, true),
            None => (self.decoy_hash.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        // The parameters stored in the hash are used, so old hashes keep verifying after a change.
        let ok = self.argon.verify_password(password.expose().as_bytes(), &parsed).is_ok();
        ok && real
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, 3600).unwrap()
    }

    fn alice() -> Username {
        Username::parse("alice").unwrap()
    }

    #[test]
    fn a_token_we_issued_verifies_as_its_user() {
        let issued = keys().issue(&alice(), Timestamp::now());
        assert_eq!(keys().verify(&issued.token).unwrap(), alice());
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert_eq!(JwtKeys::new(b"short", 60).unwrap_err(), WeakSecret);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let long_ago = Timestamp::now().plus_seconds(-7200);
        let issued = keys().issue(&alice(), long_ago);
        assert_eq!(keys().verify(&issued.token), Err(AuthError::InvalidToken));
    }

    #[test]
    fn expiry_is_judged_by_the_clock_every_function_reads() {
        // Issued now by the system's clock; verified where that clock reads two hours later (a
        // simulation's): expired. Judged by another clock, it would still verify.
        let issued = keys().issue(&alice(), Timestamp::now());
        crate::domain::simulation::enter(Timestamp::now().plus_seconds(7200).epoch_millis(), 1);
        let verified = keys().verify(&issued.token);
        crate::domain::simulation::leave();
        assert_eq!(verified, Err(AuthError::InvalidToken));
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = JwtKeys::new(b"another-secret-another-secret-xx", 3600).unwrap();
        let issued = other.issue(&alice(), Timestamp::now());
        assert_eq!(keys().verify(&issued.token), Err(AuthError::InvalidToken));
    }

    #[test]
    fn a_token_with_a_changed_payload_is_refused() {
        let issued = keys().issue(&alice(), Timestamp::now());
        let parts: Vec<&str> = issued.token.split('.').collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        let forged = URL_SAFE_NO_PAD.encode(payload.replace("alice", "mallory"));
        let token = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert_eq!(keys().verify(&token), Err(AuthError::InvalidToken));
    }

    #[test]
    fn an_unsigned_alg_none_token_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let exp = Timestamp::now().plus_seconds(3600).epoch_seconds();
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"alice","iat":1,"exp":{exp}}}"#));
        assert_eq!(keys().verify(&format!("{header}.{payload}.")), Err(AuthError::InvalidToken));
    }

    #[test]
    fn a_token_signed_with_hs512_is_refused_even_with_the_right_key() {
        let exp = Timestamp::now().plus_seconds(3600).epoch_seconds();
        let claims = Claims { sub: "alice".into(), iat: 1, exp };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &EncodingKey::from_secret(SECRET)).unwrap();
        assert_eq!(keys().verify(&token), Err(AuthError::InvalidToken));
    }

    #[test]
    fn password_hashes_are_argon2id_phc_strings_that_verify() {
        let hasher = PasswordHasher::new();
        let password = Password::parse("correct horse").unwrap();
        let hash = hasher.hash(&password);
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hasher.verify(&password, Some(&hash)));
        assert!(!hasher.verify(&Password::parse("wrong horse").unwrap(), Some(&hash)));
    }

    #[test]
    fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::new();
        assert!(!hasher.verify(&Password::parse("anything1").unwrap(), None));
    }
}
