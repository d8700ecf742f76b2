//! Outgoing mail: SMTP when `SMTP_URL` is set, otherwise one `.eml` file per
//! message in `MAIL_DIR` (local mode and tests read codes from there).

use common::ApiError;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::AuthSettings;

enum Transport {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    pub fn from_settings(settings: &AuthSettings) -> anyhow::Result<Self> {
        let from: Mailbox = settings
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("invalid MAIL_FROM: {e}"))?;
        let transport = match settings
            .smtp_url
            .as_ref()
            .filter(|u| !u.expose_secret().is_empty())
        {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| anyhow::anyhow!("invalid SMTP_URL: {e}"))?
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&settings.mail_dir).map_err(|e| {
                    anyhow::anyhow!("cannot create MAIL_DIR {}: {e}", settings.mail_dir)
                })?;
                Transport::File(AsyncFileTransport::new(&settings.mail_dir))
            }
        };
        Ok(Self { transport, from })
    }

    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), ApiError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| ApiError::internal(format!("recipient rejected: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| ApiError::internal(format!("message build failed: {e}")))?;
        let result = match &self.transport {
            Transport::File(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        };
        result.map_err(|e| ApiError::Unavailable(format!("Mail could not be sent: {e}")))
    }
}
