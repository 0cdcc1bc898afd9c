//! URLs of outside services as operators give them (brokers of sources and
//! topics, a Redis `meta` store, an S3 endpoint): the scheme is checked, and
//! a password never sits in the URL, where it would stay in shell history
//! and in the database, but in a secret of the instance, put in only when
//! the connection is made.

use crate::error::{Error, Result};
use crate::store::Store;

/// Parse `text` as a URL of one of `schemes`, without a password.
pub fn check(text: &str, schemes: &[&str]) -> std::result::Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("URL `{text}`: {e}"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!(
            "the URL's scheme is `{}`, expected {}",
            url.scheme(),
            schemes.join(" or ")
        ));
    }
    if url.password().is_some() {
        return Err(
            "the URL holds a password, which would stay in shell history and in the database: \
             store it as a secret of the instance (`ferry secret set INSTANCE NAME`) and give \
             `--password-secret NAME`"
                .into(),
        );
    }
    Ok(url)
}

/// Check that `instance` has a secret `name` (a `--password-secret`), so
/// that a mistyped name fails when it is set, not at the first connection.
pub async fn check_password_secret(store: &Store, instance: &str, name: &str) -> Result<()> {
    crate::secrets::check_name(name)?;
    let names = store.secret_names(Some(instance)).await?;
    if !names.iter().any(|(_, n)| n == name) {
        return Err(Error::Invalid(format!(
            "secret `{name}` of `{instance}` is not set: `ferry secret set {instance} {name}` first"
        )));
    }
    Ok(())
}

/// `url` with `password` put in (for clients that take a URL).
pub fn with_password(url: &str, password: Option<&str>) -> String {
    match (password, url::Url::parse(url)) {
        (Some(password), Ok(mut parsed)) => {
            let _ = parsed.set_password(Some(password));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{check, with_password};

    #[test]
    fn passwords_stay_out_of_urls() {
        assert!(check("redis://127.0.0.1:6379/0", &["redis", "rediss"]).is_ok());
        let err = check("redis://u:pw@127.0.0.1/0", &["redis"]).unwrap_err();
        assert!(err.contains("--password-secret"), "{err}");
        assert!(
            check("amqp://h", &["redis"])
                .unwrap_err()
                .contains("`amqp`")
        );
        assert_eq!(
            with_password("redis://u@h:1/0", Some("p w")),
            "redis://u:p%20w@h:1/0"
        );
    }
}
