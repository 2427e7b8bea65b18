//! Loading secrets from where a command line names them: environment variables and secrets
//! files, with the origins the `logmask` binary uses (`env NAME`, `PATH line N`).

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;

use super::{Error, ErrorKind, SecretsBuilder};

impl SecretsBuilder {
    /// Adds the value of the environment variable `name`, as it is (any bytes); errors name
    /// it `env NAME`.
    ///
    /// # Errors
    ///
    /// The variable is not set. The message names the variable.
    ///
    /// # Example
    ///
    /// ```
    /// # std::env::set_var("DEPLOY_PASSWORD", "hunter2hunter2");
    /// let secrets = logmask::Secrets::builder()
    ///     .add_env("DEPLOY_PASSWORD")?
    ///     .build()?;
    /// assert!(!secrets.is_empty());
    /// let err = logmask::Secrets::builder().add_env("NO_SUCH_VARIABLE").unwrap_err();
    /// assert_eq!(err.to_string(), "environment variable NO_SUCH_VARIABLE is not set");
    /// # Ok::<(), logmask::Error>(())
    /// ```
    pub fn add_env(&mut self, name: impl AsRef<OsStr>) -> Result<&mut Self, Error> {
        let name = name.as_ref();
        let shown = name.to_string_lossy();
        let value = std::env::var_os(name).ok_or_else(|| {
            Error::new(ErrorKind::EnvUnset {
                name: shown.to_string(),
            })
        })?;
        Ok(self.add_named(format!("env {shown}"), value.as_encoded_bytes()))
    }

    /// Adds each line of the secrets file at `path`, as
    /// [`add_lines_named`](Self::add_lines_named) with the path as origin: errors name a
    /// secret `PATH line N`.
    ///
    /// # Errors
    ///
    /// The file cannot be read. The message names the path and the system's reason; it is
    /// [`is_read`](Error::is_read).
    pub fn add_file(&mut self, path: impl AsRef<Path>) -> Result<&mut Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read(path).map_err(|err| {
            Error::new(ErrorKind::Read {
                what: format!("secrets file {}", path.display()),
                kind: err.kind(),
                reason: err.to_string(),
            })
        })?;
        Ok(self.add_lines_named(path.display().to_string(), text))
    }

    /// Adds each line read from `reader` up to its end, as
    /// [`add_lines_named`](Self::add_lines_named) does: errors name a secret
    /// `{origin} line {n}`.
    ///
    /// # Errors
    ///
    /// `reader` fails; nothing is added then. The message names `origin` and the reader's
    /// error.
    pub fn add_reader(
        &mut self,
        origin: impl Into<String>,
        mut reader: impl Read,
    ) -> Result<&mut Self, Error> {
        let origin = origin.into();
        let mut text = Vec::new();
        if let Err(err) = reader.read_to_end(&mut text) {
            return Err(Error::new(ErrorKind::Read {
                what: origin,
                kind: err.kind(),
                reason: err.to_string(),
            }));
        }
        Ok(self.add_lines_named(origin, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Encodings;

    struct Failing;

    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("vault went away"))
        }
    }

    #[test]
    fn origins_are_the_command_lines() {
        let dir = std::env::temp_dir().join(format!("logmask-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("masked.txt");
        std::fs::write(&path, "long-enough-1\n\nshort\n").unwrap();
        let mut b = crate::Secrets::builder();
        b.encodings(Encodings::NONE);
        let err = b.add_file(&path).unwrap().build().unwrap_err();
        let want = format!("the secret from {} line 3 is 5 bytes long", path.display());
        assert!(err.to_string().starts_with(&want), "{err}");
        assert!(!err.to_string().contains("short\n"));

        let missing = dir.join("missing.txt");
        let err = b.add_file(&missing).unwrap_err();
        assert!(err.is_read() && err.io_kind() == Some(std::io::ErrorKind::NotFound));
        let want = format!("cannot read secrets file {}: ", missing.display());
        assert!(err.to_string().starts_with(&want), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();

        let mut b = crate::Secrets::builder();
        let err = b.add_reader("vault", Failing).unwrap_err();
        assert_eq!(err.to_string(), "cannot read vault: vault went away");
        let s = b
            .add_reader("stdin", &b"0123456789\r\nabcdefghij"[..])
            .unwrap()
            .encodings(Encodings::NONE)
            .build()
            .unwrap();
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn an_unset_variable_is_named() {
        let err = crate::Secrets::builder()
            .add_env("LOGMASK_TEST_SURELY_UNSET")
            .unwrap_err();
        assert!(err.is_env_unset());
        assert_eq!(
            err.to_string(),
            "environment variable LOGMASK_TEST_SURELY_UNSET is not set"
        );
    }
}
