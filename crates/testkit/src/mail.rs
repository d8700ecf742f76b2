use std::path::{Path, PathBuf};
use std::time::Duration;

/// A mail folder of its own under `.run/mail/tests/`, for one test app.
pub fn mail_dir() -> PathBuf {
    let dir = crate::workspace_root()
        .join(".run/mail/tests")
        .join(uuid::Uuid::now_v7().simple().to_string());
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The `.eml` files in `dir` whose text mentions `to`, oldest first.
pub fn mails_to(dir: &Path, to: &str) -> Vec<String> {
    let mut found: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .filter_map(|e| {
                    let modified = e.metadata().and_then(|m| m.modified()).ok()?;
                    let text = std::fs::read_to_string(e.path()).ok()?;
                    text.contains(to).then_some((modified, text))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|(t, _)| *t);
    found.into_iter().map(|(_, text)| text).collect()
}

/// Waits (up to 5 s) until `count` mails to `to` exist, for mail sent in the
/// background after the response; returns them.
pub async fn wait_for_mails(dir: &Path, to: &str, count: usize) -> Vec<String> {
    for _ in 0..100 {
        let mails = mails_to(dir, to);
        if mails.len() >= count {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    mails_to(dir, to)
}

/// The run of `len` ASCII digits that follows `marker` in the mail (headers such
/// as Message-ID hold digit runs too, so the marker anchors the search).
pub fn code_after(mail: &str, marker: &str, len: usize) -> Option<String> {
    let rest = &mail[mail.find(marker)? + marker.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .find(|w| !w.is_empty())
        .filter(|w| w.len() == len)
        .map(str::to_owned)
}

/// The line after the one containing `marker`, trimmed (reset tokens).
pub fn line_after(mail: &str, marker: &str) -> Option<String> {
    let mut lines = mail.lines().skip_while(|l| !l.contains(marker)).skip(1);
    lines
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
}
