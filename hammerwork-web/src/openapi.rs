//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the API, generated
//! from the handlers (each carries its `#[utoipa::path]`; the router and the
//! document are built from the same list, so neither has a route the other
//! lacks). The error answers every operation can give are added here once.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};
use utoipa::ToSchema;

/// The document's fixed part; the paths come from the handlers.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Hammerwork web API",
        description = "Jobs, queues, workflows and spawn trees of a Hammerwork database."
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "jobs"), (name = "queues"), (name = "workflows"), (name = "spawn"),
        (name = "events"), (name = "operations")
    )
)]
pub(crate) struct ApiDoc;

/// The routes outside `/api`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(crate::health, crate::metrics))]
struct OutsideApi;

/// Every error answer.
#[derive(ToSchema)]
#[allow(dead_code)] // documents ApiError's JSON
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(ToSchema)]
#[allow(dead_code)] // documents ApiError's JSON
pub(crate) struct ErrorDetail {
    /// Stable: bad_request, unauthorized, forbidden, cross_site, not_found,
    /// conflict, too_large, unsupported_media_type, invalid, database, ...
    code: String,
    /// For people.
    message: String,
}

/// Errors any request may get.
const ANY: &[(&str, &str)] = &[
    ("400", "a malformed id, filter or body"),
    (
        "401",
        "no credential that matches (when the server asks for one)",
    ),
    ("404", "no such record or endpoint"),
    ("408", "the request took longer than the server allows"),
    ("503", "the database failed"),
];

/// Errors a state-changing request may also get.
const ACTIONS: &[(&str, &str)] = &[
    (
        "403",
        "a read-only credential, or a browser on another site",
    ),
    (
        "409",
        "the action does not apply to the record as it stands",
    ),
    ("413", "the body is over the limit"),
    ("415", "not Content-Type: application/json"),
    ("422", "an invalid job or workflow"),
];

/// `doc` (the routes nested under `/api`, as their handlers name them) with
/// the `/api` prefix, the routes outside it, the error answers and the
/// security schemes.
pub(crate) fn finish(mut doc: OpenApi) -> OpenApi {
    let nested = std::mem::take(&mut doc.paths.paths);
    for (path, item) in nested {
        doc.paths.paths.insert(format!("/api{path}"), item);
    }
    doc.merge(<OutsideApi as utoipa::OpenApi>::openapi());
    for item in doc.paths.paths.values_mut() {
        let reads = [item.get.as_mut(), item.head.as_mut()];
        for operation in reads.into_iter().flatten() {
            add_errors(operation, ANY);
        }
        let actions = [item.post.as_mut(), item.put.as_mut(), item.delete.as_mut()];
        for operation in actions.into_iter().flatten() {
            add_errors(operation, ANY);
            add_errors(operation, ACTIONS);
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    components.add_security_scheme(
        "basic",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
    );
    // Credentials are the server's choice: a bearer token, basic auth, or
    // none on a server without them.
    doc.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::new("basic", Vec::<String>::new()),
        SecurityRequirement::default(),
    ]);
    doc
}

fn add_errors(operation: &mut Operation, errors: &[(&str, &str)]) {
    for (status, description) in errors {
        if operation.responses.responses.contains_key(*status) {
            continue;
        }
        let response = ResponseBuilder::new()
            .description(*description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .insert((*status).to_string(), response.into());
    }
}

/// A workflow file (`hammerwork::workflow::WorkflowFile`), as the document
/// shows it. Beyond its shape, names must be unique, `depends_on` must name
/// jobs of the file and form no cycle, and conditions and durations must
/// parse: 422 names what does not.
#[derive(ToSchema)]
#[schema(as = WorkflowFile)]
#[allow(dead_code)] // documents the JSON WorkflowFile reads
pub(crate) struct WorkflowFileDoc {
    /// The workflow's name.
    #[schema(pattern = "\\S")]
    name: String,
    /// What it is for.
    description: Option<String>,
    /// fail_fast (default), continue_on_failure or manual.
    #[schema(pattern = "^(fail_fast|continue_on_failure|manual)$")]
    failure_policy: Option<String>,
    /// How long it may run: `2h`, `30m`, `1h 30m`.
    timeout: Option<String>,
    /// Its jobs, in any order.
    #[schema(min_items = 1)]
    jobs: Vec<JobEntryDoc>,
}

/// One job of a workflow file.
#[derive(ToSchema)]
#[schema(as = JobEntry)]
#[allow(dead_code)] // documents the JSON JobEntry reads
pub(crate) struct JobEntryDoc {
    /// Its name in the file, unique there.
    #[schema(pattern = "\\S")]
    name: String,
    /// The queue it runs on.
    #[schema(pattern = "\\S")]
    queue: String,
    /// Its payload (default `{}`).
    payload: Option<utoipa::openapi::Object>,
    /// The names of the jobs it waits for.
    depends_on: Option<Vec<String>>,
    /// background, low, normal (default), high or critical.
    #[schema(pattern = "^(background|low|normal|high|critical)$")]
    priority: Option<String>,
    /// Attempts before it is dead.
    #[schema(minimum = 1)]
    max_attempts: Option<i32>,
    /// Runs only if this holds over the parents' results.
    condition: Option<String>,
    /// Not before this long after the workflow is enqueued.
    delay: Option<String>,
    /// Longest one attempt may run.
    timeout: Option<String>,
}
