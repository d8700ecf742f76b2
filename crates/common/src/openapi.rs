//! What every service's OpenAPI document shares: the bearer security scheme and
//! the committed form (pretty JSON with a trailing newline, for drift tests).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::Modify;

/// Declares the `bearer` scheme (a JWT in `Authorization: Bearer`) that routes
/// name in `security(("bearer" = []))`.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document as committed under `proto-docs/`.
pub fn committed_json(document: &OpenApi) -> anyhow::Result<String> {
    let mut json = document.to_pretty_json()?;
    json.push('\n');
    Ok(json)
}
