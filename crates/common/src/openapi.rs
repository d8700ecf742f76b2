//! What every service's OpenAPI document shares, added by [`finish`] so that no
//! service can forget it: the bearer security scheme, the error envelope's
//! schemas, and the answers the shared code gives on any route (400, 413 and 415
//! for a body, 401 for a bearer route, 503 when a dependency is down). The
//! finished document is also the table of methods behind `405 Method Not
//! Allowed` ([`MethodTable`]).

use actix_web::http::Method;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayItems, SchemaFormat};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::error::{ErrorBody, ErrorEnvelope};

/// The document with its title and description, and what the shared code adds
/// to every service.
pub fn finish(mut document: OpenApi, title: &str, description: &str) -> OpenApi {
    document.info.title = title.to_owned();
    document.info.description = Some(description.to_owned());
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    components
        .schemas
        .insert(ErrorEnvelope::name().into_owned(), ErrorEnvelope::schema());
    components
        .schemas
        .insert(ErrorBody::name().into_owned(), ErrorBody::schema());
    for schema in components.schemas.values_mut() {
        write_patterns(schema);
    }
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_shared_answers(operation);
            for parameter in operation.parameters.iter_mut().flatten() {
                if let Some(schema) = parameter.schema.as_mut() {
                    write_patterns(schema);
                }
            }
            if let Some(body) = operation.request_body.as_mut() {
                for content in body.content.values_mut() {
                    if let Some(schema) = content.schema.as_mut() {
                        write_patterns(schema);
                    }
                }
            }
        }
    }
    document
}

/// Replaces the formats that name a text rule of [`crate::domain`] (`text`,
/// `multiline`, `image-url`, ...) by that rule's `pattern`, everywhere in a schema.
fn write_patterns(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(object) => {
            if let Some(SchemaFormat::Custom(format)) = &object.format {
                if let Some(pattern) = crate::domain::pattern_of(format) {
                    object.pattern = Some(pattern);
                    object.format = None;
                }
            }
            for property in object.properties.values_mut() {
                write_patterns(property);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                write_patterns(items);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(write_patterns),
        Schema::AllOf(all) => all.items.iter_mut().for_each(write_patterns),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(write_patterns),
        _ => {}
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(ErrorEnvelope::name())))
                    .build(),
            )
            .build(),
    )
}

fn add_shared_answers(operation: &mut Operation) {
    let mut shared: Vec<(&str, &str)> = Vec::new();
    if operation.request_body.is_some() {
        shared.extend([
            ("400", "BAD_REQUEST: the body is not JSON, not an object, or has a field of the wrong type"),
            ("413", "PAYLOAD_TOO_LARGE: the body is larger than the route accepts"),
            ("415", "UNSUPPORTED_MEDIA_TYPE: the body's Content-Type is not the one documented"),
        ]);
    } else if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
        shared.push((
            "400",
            "BAD_REQUEST: a parameter of the wrong type, given twice, or holding a NUL character",
        ));
    }
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        shared.push((
            "401",
            "UNAUTHENTICATED: missing, malformed, expired, forged or revoked token (details.reason)",
        ));
    }
    if operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Path)
    {
        shared.push((
            "404",
            "NOT_FOUND: no such resource among the caller's, or a path value outside those listed",
        ));
    }
    shared.push((
        "503",
        "SERVICE_UNAVAILABLE: the database or another dependency is unavailable; retry after Retry-After",
    ));
    for (status, description) in shared {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    }
}

/// A string schema of exactly these values, for parameters whose Rust type is a
/// plain string checked against a list (so the document and the check share it).
pub fn one_of(values: &[&str]) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// The committed form (pretty JSON with a trailing newline, for drift tests).
pub fn committed_json(document: &OpenApi) -> anyhow::Result<String> {
    let mut json = document.to_pretty_json()?;
    json.push('\n');
    Ok(json)
}

/// Which methods each path template of a listener answers, for 405 and `Allow`.
#[derive(Debug, Clone, Default)]
pub struct MethodTable {
    routes: Vec<(Vec<Segment>, Vec<Method>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// A path parameter; `Some` when the document lists the values it takes.
    Param(Option<Vec<String>>),
}

impl Segment {
    fn matches(&self, part: &str) -> bool {
        match self {
            Self::Literal(l) => l == part,
            Self::Param(None) => !part.is_empty(),
            Self::Param(Some(values)) => values.iter().any(|v| v == part),
        }
    }
}

/// The values a path parameter's schema enumerates, inline or by reference.
fn enum_values(document: &OpenApi, schema: Option<&RefOr<Schema>>) -> Option<Vec<String>> {
    let schema = match schema? {
        RefOr::T(schema) => schema,
        RefOr::Ref(reference) => {
            let name = reference.ref_location.rsplit('/').next()?;
            match document.components.as_ref()?.schemas.get(name)? {
                RefOr::T(schema) => schema,
                RefOr::Ref(_) => return None,
            }
        }
    };
    let Schema::Object(object) = schema else {
        return None;
    };
    object.enum_values.as_ref().map(|values| {
        values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    })
}

fn segments(document: &OpenApi, template: &str, item: Option<&PathItem>) -> Vec<Segment> {
    let parameters: Vec<&Parameter> = item
        .into_iter()
        .flat_map(|item| {
            [
                &item.get,
                &item.put,
                &item.post,
                &item.delete,
                &item.patch,
                &item.head,
                &item.options,
                &item.trace,
            ]
        })
        .flatten()
        .flat_map(|op| op.parameters.iter().flatten())
        .filter(|p| p.parameter_in == ParameterIn::Path)
        .collect();
    template
        .split('/')
        .skip(1)
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(
                    parameters
                        .iter()
                        .find(|p| p.name == name)
                        .and_then(|p| enum_values(document, p.schema.as_ref())),
                ),
                None => Segment::Literal(s.to_owned()),
            },
        )
        .collect()
}

impl MethodTable {
    /// The paths of `document` that `keep` accepts, plus `extra` (routes the
    /// shared server adds: health, metrics, the document itself).
    pub fn new(document: &OpenApi, keep: impl Fn(&str) -> bool, extra: &[(&str, Method)]) -> Self {
        let mut table = Self::default();
        for (path, item) in &document.paths.paths {
            if !keep(path) {
                continue;
            }
            let methods = [
                (&item.get, Method::GET),
                (&item.put, Method::PUT),
                (&item.post, Method::POST),
                (&item.delete, Method::DELETE),
                (&item.patch, Method::PATCH),
                (&item.head, Method::HEAD),
                (&item.options, Method::OPTIONS),
                (&item.trace, Method::TRACE),
            ]
            .into_iter()
            .filter(|(op, _)| op.is_some())
            .map(|(_, m)| m)
            .collect();
            table
                .routes
                .push((segments(document, path, Some(item)), methods));
        }
        for (path, method) in extra {
            table
                .routes
                .push((segments(document, path, None), vec![method.clone()]));
        }
        table
    }

    /// The methods the listener answers on `path`, in a stable order; empty when
    /// no route has this path. When several templates match, the most specific
    /// (most literal segments) wins, as in the router: `/api/meetings/join` is
    /// not `/api/meetings/{id}`.
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        let matching: Vec<(usize, &Vec<Method>)> = self
            .routes
            .iter()
            .filter(|(template, _)| {
                template.len() == parts.len()
                    && template.iter().zip(&parts).all(|(t, p)| t.matches(p))
            })
            .map(|(template, methods)| {
                let literals = template
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count();
                (literals, methods)
            })
            .collect();
        let Some(best) = matching.iter().map(|(literals, _)| *literals).max() else {
            return Vec::new();
        };
        let mut methods: Vec<Method> = Vec::new();
        for (_, allowed) in matching.iter().filter(|(literals, _)| *literals == best) {
            for m in allowed.iter() {
                if !methods.contains(m) {
                    methods.push(m.clone());
                }
            }
        }
        methods.sort_by_key(|m| m.to_string());
        methods
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{OperationBuilder, PathItem};
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{HttpMethod, OpenApiBuilder, PathsBuilder};

    fn document() -> OpenApi {
        OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path(
                        "/api/things/{id}",
                        PathItem::new(
                            HttpMethod::Get,
                            OperationBuilder::new()
                                .security(SecurityRequirement::new("bearer", Vec::<String>::new())),
                        ),
                    )
                    .path(
                        "/api/things/{id}",
                        PathItem::new(HttpMethod::Delete, OperationBuilder::new()),
                    )
                    .path(
                        "/internal/things",
                        PathItem::new(HttpMethod::Post, OperationBuilder::new()),
                    ),
            )
            .build()
    }

    #[test]
    fn the_table_lists_the_methods_of_matching_templates() {
        let table = MethodTable::new(
            &document(),
            |p| !p.starts_with("/internal"),
            &[("/health/live", Method::GET)],
        );
        assert_eq!(
            table.allowed("/api/things/42"),
            vec![Method::DELETE, Method::GET]
        );
        assert!(table.allowed("/api/things").is_empty());
        assert!(table.allowed("/api/things/").is_empty());
        assert!(
            table.allowed("/internal/things").is_empty(),
            "other listener"
        );
        assert_eq!(table.allowed("/health/live"), vec![Method::GET]);
    }

    #[test]
    fn literal_segments_beat_parameters_and_enums_narrow_them() {
        use utoipa::openapi::path::ParameterBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let media = ParameterBuilder::new()
            .name("media")
            .parameter_in(ParameterIn::Path)
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["movies", "tv"])),
            ))
            .build();
        let doc = OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path(
                        "/api/meetings/join",
                        PathItem::new(HttpMethod::Post, OperationBuilder::new()),
                    )
                    .path(
                        "/api/meetings/{id}",
                        PathItem::new(HttpMethod::Get, OperationBuilder::new()),
                    )
                    .path(
                        "/api/{media}",
                        PathItem::new(HttpMethod::Get, OperationBuilder::new().parameter(media)),
                    )
                    .path(
                        "/api/search",
                        PathItem::new(HttpMethod::Get, OperationBuilder::new()),
                    ),
            )
            .build();
        let table = MethodTable::new(&doc, |_| true, &[]);
        assert_eq!(table.allowed("/api/meetings/join"), vec![Method::POST]);
        assert_eq!(table.allowed("/api/meetings/42"), vec![Method::GET]);
        assert_eq!(table.allowed("/api/tv"), vec![Method::GET]);
        assert_eq!(table.allowed("/api/search"), vec![Method::GET]);
        assert!(table.allowed("/api/books").is_empty(), "not a media type");
    }

    #[test]
    fn finishing_documents_the_shared_answers() {
        let doc = finish(document(), "Things", "A test document.");
        let item = &doc.paths.paths["/api/things/{id}"];
        let get = item.get.as_ref().unwrap();
        assert!(get.responses.responses.contains_key("401"));
        assert!(get.responses.responses.contains_key("503"));
        assert!(!get.responses.responses.contains_key("415"), "no body");
        let delete = item.delete.as_ref().unwrap();
        assert!(
            !delete.responses.responses.contains_key("401"),
            "no security"
        );
        let components = doc.components.unwrap();
        assert!(components.schemas.contains_key("ErrorEnvelope"));
        assert!(components.security_schemes.contains_key("bearer"));
    }
}
