//! The users file (`<data>/web/users.json`, mode 0600): names, roles and
//! argon2id hashes. A file rather than the database so `set-password` works
//! while the daemon holds the store open; the daemon reads it on each login.

use super::session::Role;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub name: String,
    pub role: Role,
    /// argon2id PHC string (salt and parameters included).
    pub hash: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct UsersDoc {
    users: Vec<UserRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a users file: {source}")]
    Format {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("user name must be 1-32 characters a-z, 0-9, `.`, `_` or `-`")]
    BadName,
    #[error("password must be 10 to 256 characters")]
    BadPassword,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

pub const MIN_PASSWORD: usize = 10;
const MAX_PASSWORD: usize = 256;

pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

pub fn check_password_rules(password: &str) -> Result<(), UserError> {
    let n = password.chars().count();
    if (MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        Ok(())
    } else {
        Err(UserError::BadPassword)
    }
}

/// argon2id with the crate's defaults (19 MiB, 2 passes: OWASP's minimum).
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A hash to verify against when the user does not exist, so an unknown
/// name costs as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

#[derive(Debug, Clone)]
pub struct UserFile {
    path: PathBuf,
}

impl UserFile {
    pub fn in_dir(web_dir: &Path) -> Self {
        Self {
            path: web_dir.join("users.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All users; a missing file is no users.
    pub fn load(&self) -> Result<Vec<UserRecord>, UserError> {
        let text = match std::fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(self.io(source)),
        };
        serde_json::from_slice::<UsersDoc>(&text)
            .map(|d| d.users)
            .map_err(|source| UserError::Format {
                path: self.path.display().to_string(),
                source,
            })
    }

    pub fn find(&self, name: &str) -> Result<Option<UserRecord>, UserError> {
        Ok(self.load()?.into_iter().find(|u| u.name == name))
    }

    pub fn has_admin(&self) -> Result<bool, UserError> {
        Ok(self.load()?.iter().any(|u| u.role == Role::Admin))
    }

    /// Create or replace `name` with a new password and role.
    pub fn set(&self, name: &str, role: Role, password: &str) -> Result<(), UserError> {
        if !valid_name(name) {
            return Err(UserError::BadName);
        }
        check_password_rules(password)?;
        let hash = hash_password(password)?;
        let mut users = self.load()?;
        users.retain(|u| u.name != name);
        users.push(UserRecord {
            name: name.to_string(),
            role,
            hash,
        });
        self.save(&users)
    }

    /// Write a new file next to the old one (0600) and rename it over: a
    /// power cut leaves the old or the new file, never half of one.
    fn save(&self, users: &[UserRecord]) -> Result<(), UserError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(|e| self.io(e))?;
        let tmp = self.path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(&UsersDoc {
            users: users.to_vec(),
        })
        .map_err(|source| UserError::Format {
            path: self.path.display().to_string(),
            source,
        })?;
        write_private(&tmp, &body).map_err(|e| self.io(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.io(e))
    }

    fn io(&self, source: std::io::Error) -> UserError {
        UserError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }
}

/// `mkdir -p` with mode 0700 for the last component.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Write a file readable by its owner only (0600), synced to disk.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// A fresh random secret as hex (session tokens, CSRF tokens, setup codes).
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// `gnss-timeserver set-password --data DIR --user NAME --role ROLE`: the
/// password is read from the first line of stdin (so it never shows in the
/// process list or the shell history).
pub fn set_password_cli(
    data: &Path,
    user: &str,
    role: &str,
) -> anyhow::Result<std::process::ExitCode> {
    let role: Role = match role.parse() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: --role: {e}");
            return Ok(std::process::ExitCode::from(2));
        }
    };
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprint!("new password for {user} (at least {MIN_PASSWORD} characters): ");
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']);
    let file = UserFile::in_dir(&crate::web::web_dir(data));
    match file.set(user, role, password) {
        Ok(()) => {
            println!("user {user} ({role:?}) saved in {}", file.path().display());
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(std::process::ExitCode::from(2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_verify_replace() {
        let dir = tempfile::tempdir().unwrap();
        let f = UserFile::in_dir(&dir.path().join("web"));
        assert!(f.load().unwrap().is_empty());
        assert!(!f.has_admin().unwrap());
        f.set("admin", Role::Admin, "correct horse battery")
            .unwrap();
        let u = f.find("admin").unwrap().unwrap();
        assert!(u.hash.starts_with("$argon2id$"), "{}", u.hash);
        assert!(verify_password(&u.hash, "correct horse battery"));
        assert!(!verify_password(&u.hash, "correct horse batterz"));
        assert!(f.has_admin().unwrap());
        let mode = std::fs::metadata(f.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        f.set("admin", Role::Viewer, "another password").unwrap();
        assert_eq!(f.load().unwrap().len(), 1);
        assert!(!f.has_admin().unwrap());
    }

    #[test]
    fn rules() {
        let dir = tempfile::tempdir().unwrap();
        let f = UserFile::in_dir(dir.path());
        assert!(matches!(
            f.set("Admin", Role::Admin, "long enough pw"),
            Err(UserError::BadName)
        ));
        assert!(matches!(
            f.set("admin", Role::Admin, "short"),
            Err(UserError::BadPassword)
        ));
        assert!(!verify_password("not a hash", "x"));
        std::fs::write(f.path(), b"{oops").unwrap();
        assert!(matches!(f.load(), Err(UserError::Format { .. })));
    }
}
