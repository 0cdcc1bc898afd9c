//! The route table of the admin API: each route declared once, with its
//! role, method, path, handler and what it does. The router and the OpenAPI
//! document (`GET /api/openapi.json`) are both made from it, so that neither
//! can name a route the other lacks.

use super::{catalog, jobs, logs, manage, sources, stores, topics};
use crate::serve::app::App;
use crate::serve::auth::{Gate, gate};
use crate::tokens::Role;
use axum::Router;
use axum::middleware::from_fn_with_state;

/// A route of the admin API, as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRoute {
    /// The weakest role whose tokens may call it.
    pub role: Role,
    /// HTTP method, lowercase (`get`, `post`, `put`, `delete`).
    pub method: &'static str,
    /// Path, with `{param}` segments.
    pub path: &'static str,
    /// What it does, in one line.
    pub summary: &'static str,
}

macro_rules! api_routes {
    ($( $role:ident $method:ident $path:literal => $handler:path, $summary:literal; )*) => {
        /// Every route of the admin API.
        pub const API_ROUTES: &[ApiRoute] = &[
            $( ApiRoute {
                role: Role::$role,
                method: stringify!($method),
                path: $path,
                summary: $summary,
            }, )*
        ];

        /// The routes, each behind the gate of its role.
        pub(super) fn router(app: &App) -> Router<App> {
            let mut groups: [(Role, Router<App>); 3] = [
                (Role::Viewer, Router::new()),
                (Role::Developer, Router::new()),
                (Role::Manager, Router::new()),
            ];
            $(
                for (role, group) in groups.iter_mut() {
                    if *role == Role::$role {
                        let taken = std::mem::take(group);
                        *group = taken.route($path, axum::routing::$method($handler));
                    }
                }
            )*
            let mut all = Router::new();
            for (role, group) in groups {
                let gate_state = Gate { app: app.clone(), role };
                all = all.merge(group.route_layer(from_fn_with_state(gate_state, gate)));
            }
            all
        }
    };
}

api_routes! {
    Viewer get "/api/health" => manage::health, "Whether the server is up, and how many jobs are in each state";
    Viewer get "/api/overview" => jobs::overview, "Jobs by state per instance and channel, finished per minute, running, snoozed, failing";
    Viewer get "/api/jobs" => jobs::list_jobs, "Jobs, newest first (state, instance, channel, module, name, trigger, text, since, until, before, limit)";
    Viewer get "/api/jobs/{id}" => jobs::job, "One job with its log";
    Viewer get "/api/jobs/{id}/steps" => jobs::job_steps, "The steps of a job";
    Viewer get "/api/jobs/{id}/warnings" => jobs::job_warnings, "The first warnings of a job's steps (limit)";
    Viewer get "/api/logs" => logs::logs, "Job log lines across jobs, newest first (instance, module, job_name, trigger, level, state, since, until, grep, job, before, after, limit)";
    Viewer get "/api/transmissions" => logs::transmissions, "Outbound requests of guests (instance, job, module, host, status, refused, since, until, before, limit)";
    Viewer get "/api/audit" => logs::audit, "The audit log (instance, job, actor, action, since, until, before, limit)";
    Viewer get "/api/modules" => catalog::modules, "Installed modules with every kept version";
    Viewer get "/api/cron" => catalog::cron, "Cron schedules per backend instance (instance)";
    Viewer get "/api/checkpoints" => catalog::checkpoints, "Records flagged for review";
    Viewer get "/api/links" => catalog::links, "Links of local records to external ids (instance, model, local_id, external_id, offset, limit)";
    Viewer get "/api/instances" => manage::instances, "Every backend instance (secrets hidden)";
    Viewer get "/api/instances/{name}" => manage::instance, "One backend instance, its chain, webhooks and buttons";
    Viewer get "/api/conflicts" => manage::conflicts, "Conflicts (instance, model, state, limit, offset)";
    Viewer get "/api/conflicts/{id}" => manage::conflict, "One conflict";
    Viewer get "/api/instances/{name}/conflict-policies" => manage::conflict_policies, "Conflict policies of an instance";
    Viewer get "/api/instances/{name}/conflict-policies/{model}" => manage::conflict_policy, "The conflict policy of a model";
    Viewer get "/api/pairs" => manage::pairs, "Couples of external ids (instance, label, id, limit, offset)";
    Viewer get "/api/instances/{name}/cursors" => manage::cursors, "Cursors of an instance";
    Viewer get "/api/profiles" => manage::profiles, "Job profiles";
    Viewer get "/api/profiles/{name}" => manage::profile, "One job profile";
    Viewer get "/api/sources" => sources::sources, "Broker sources with what each node reports (state, lag, counts, errors)";
    Viewer get "/api/dead-letters" => sources::dead_letters, "Messages that did not become jobs, newest first (instance, listener, replayed, limit)";
    Viewer get "/api/topics" => topics::topics, "Where every instance's published topics go (pattern, type, settings)";
    Viewer get "/api/topics/{instance}" => topics::instance_topics, "Where one instance's published topics go";
    Viewer get "/api/stores" => stores::stores, "Where every instance's `meta` and `blobs` stores are (type, settings; defaults included)";
    Viewer get "/api/stores/{instance}" => stores::instance_stores, "Where one instance's `meta` and `blobs` stores are";
    Viewer get "/api/outbox" => topics::outbox, "Messages guests published, newest first, sent or waiting (instance, unsent, limit)";
    Developer post "/api/jobs/{id}/{action}" => jobs::act, "Requeue, cancel, stop, done, pause or resume a job";
    Developer post "/api/jobs/bulk/{action}" => jobs::act_many, "Requeue or cancel every job a filter (the body, JSON) matches, at most 10 000";
    Developer delete "/api/checkpoints" => catalog::clear_all_checkpoints, "Clear every checkpoint";
    Developer delete "/api/checkpoints/{id}" => catalog::clear_checkpoint, "Clear one checkpoint";
    Developer post "/api/instances/{instance}/buttons/{button}" => manage::press, "Press a button (body: its data, JSON)";
    Developer post "/api/instances" => manage::add_instance, "Add a backend instance";
    Developer delete "/api/instances/{name}" => manage::remove_instance, "Remove a backend instance";
    Developer post "/api/profiles" => manage::create_profile, "Create a job profile";
    Developer put "/api/profiles/{name}" => manage::edit_profile, "Edit a job profile";
    Developer delete "/api/profiles/{name}" => manage::remove_profile, "Remove a job profile";
    Developer post "/api/profiles/{name}/run" => manage::run_profile, "Run a job profile (body: one-off overrides)";
    Developer put "/api/instances/{name}/cursors/{cursor}" => manage::set_cursor, "Set a cursor (body: its value, JSON)";
    Developer delete "/api/instances/{name}/cursors/{cursor}" => manage::clear_cursor, "Clear a cursor";
    Developer post "/api/sources" => sources::add_source, "Bind a listener of an instance to a broker (instance, listener, kind, settings, max_pending)";
    Developer post "/api/sources/{instance}/{listener}/{action}" => sources::source_action, "Pause or resume a source";
    Developer delete "/api/sources/{instance}/{listener}" => sources::remove_source, "Remove a source and its dead letters";
    Developer post "/api/topics" => topics::set_topic, "Set where a pattern of an instance's topics goes (instance, topic, kind, settings)";
    Developer delete "/api/topics/{instance}/{topic}" => topics::remove_topic, "Remove where a pattern of an instance's topics goes";
    Developer post "/api/stores" => stores::set_store, "Set where an instance's `meta` or `blobs` store is (instance, store, kind, settings)";
    Developer delete "/api/stores/{instance}/{store}" => stores::remove_store, "Remove an instance's store setting (`meta` goes back to local, `blobs` to none)";
    Developer post "/api/dead-letters/{id}/replay" => sources::replay, "Replay a dead letter as a job";
    Manager get "/api/secrets" => manage::all_secrets, "Names of every instance's secrets";
    Manager get "/api/instances/{name}/secrets" => manage::secrets, "Names of an instance's secrets";
    Manager put "/api/instances/{name}/secrets/{secret}" => manage::set_secret, "Set a secret (body: its value, text)";
    Manager delete "/api/instances/{name}/secrets/{secret}" => manage::remove_secret, "Remove a secret";
    Manager get "/api/tokens" => manage::tokens, "API tokens (never the tokens themselves)";
    Manager post "/api/tokens" => manage::create_token, "Make an API token (shown once)";
    Manager delete "/api/tokens/{name}" => manage::revoke_token, "Revoke an API token";
    Manager post "/api/jobs/prune" => jobs::prune, "Forget finished jobs, their logs and steps, transmissions and sent outbox messages older than an age (body: older_than_ms, dry_run)";
    Manager post "/api/conflicts/{id}/resolve" => manage::resolve_conflict, "Resolve a conflict";
    Manager put "/api/instances/{name}/conflict-policies/{model}" => manage::set_conflict_policy, "Set a conflict policy";
    Manager delete "/api/instances/{name}/pairs/{label}/{left_id}" => manage::unpair, "Remove a couple of external ids";
}
