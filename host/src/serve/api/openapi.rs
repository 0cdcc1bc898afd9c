//! `GET /api/openapi.json`: the admin API described as OpenAPI 3, made from
//! the route table ([`super::API_ROUTES`]) so that it names exactly the routes
//! the server has. Served without a token: it describes the API and holds no
//! data, and tools read it before they have a token.

use super::table::{API_ROUTES, ApiRoute};
use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Components, Info, OpenApi, Paths, Required};

/// The name of the bearer-token scheme in the document.
const BEARER: &str = "api_token";

/// The OpenAPI document of the admin API.
pub fn openapi() -> OpenApi {
    let mut paths = Paths::new();
    for route in API_ROUTES {
        paths.add_path_operation(route.path, vec![method(route)], operation(route));
    }
    let mut info = Info::new("Ferry admin API", env!("CARGO_PKG_VERSION"));
    info.description = Some(
        "Operate a Ferry installation: jobs, logs, instances, secrets, tokens. Every route \
         needs an API token (`Authorization: Bearer ferry_…`, made with `ferry token create`) \
         of the role it names; errors are `{\"error\": \"…\"}`."
            .into(),
    );
    let mut document = OpenApi::new(info, paths);
    let mut components = Components::new();
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    document.components = Some(components);
    document
}

/// `GET /api/openapi.json`.
pub(super) async fn document() -> Response {
    Json(openapi()).into_response()
}

fn method(route: &ApiRoute) -> HttpMethod {
    match route.method {
        "post" => HttpMethod::Post,
        "put" => HttpMethod::Put,
        "delete" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

fn operation(route: &ApiRoute) -> utoipa::openapi::path::Operation {
    let id = format!(
        "{}{}",
        route.method,
        route
            .path
            .replace(['/', '{', '}', '-'], "_")
            .trim_end_matches('_')
    );
    let tag = route.path.split('/').nth(2).unwrap_or("api");
    let mut builder = OperationBuilder::new()
        .summary(Some(route.summary))
        .description(Some(format!(
            "Role: {} (or stronger).",
            route.role.as_str()
        )))
        .operation_id(Some(id))
        .tag(tag)
        .security(SecurityRequirement::new(BEARER, Vec::<String>::new()))
        .response("200", utoipa::openapi::Response::new("The answer, JSON"))
        .response(
            "400",
            utoipa::openapi::Response::new("A bad value: `{\"error\": \"…\"}` names it"),
        )
        .response("401", utoipa::openapi::Response::new("No valid API token"))
        .response(
            "403",
            utoipa::openapi::Response::new("The token's role is too weak"),
        )
        .response(
            "404",
            utoipa::openapi::Response::new("What the path names does not exist"),
        );
    for segment in route.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let numeric = matches!(name, "id");
            let kind = if numeric { Type::Integer } else { Type::String };
            builder = builder.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(ObjectBuilder::new().schema_type(kind))),
            );
        }
    }
    builder.build()
}
