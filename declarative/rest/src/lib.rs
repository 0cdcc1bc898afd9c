//! Ferry's `rest` module: the component that runs declarative REST
//! connectors (see the `ferry-declarative` crate for the grammar).
//!
//! A declarative connector is a `connector.toml` with a `[rest]` section and
//! no code. Ferry installs it with this module's component; the host hands
//! the component that connector's `[rest]` section as the reserved param
//! [`CONFIG_PARAM`], and everything else (params, allowed hosts, secrets,
//! subscriptions) is the connector's own manifest, so the sandbox is the
//! same as for a connector written in Rust.
//!
//! Each stream is one model. Its units are the SDK's generic ones (the
//! importer, exporter and binder, with links, versions, conflicts and
//! idempotent creates), over an adapter and a mapper made from the stream:
//! the models are known only at run time, so every unit is registered for
//! `*` and made for the model of each call.

mod stream_adapter;
mod stream_mapper;

use ferry_declarative::{CONFIG_PARAM, RestConnector, Stream};
use ferry_sdk::generic;
use ferry_sdk::mapper::{Mapper, MapperUnit};
use ferry_sdk::prelude::*;
use ferry_sdk::unit::per_model;

pub use stream_adapter::{collection, stream_adapter};
pub use stream_mapper::mapper;

/// The `[rest]` section of the connector this call runs for.
pub fn config(ctx: &Context) -> Result<RestConnector> {
    let text = ctx.param(CONFIG_PARAM).ok_or_else(|| {
        Error::fatal(
            "the `rest` module runs declarative connectors and has no [rest] section of its own: \
             install a connector.toml with a [rest] section (`ferry install DIR`)",
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| Error::fatal(format!("the [rest] section Ferry handed over: {e}")))
}

/// The stream of `model`, or a not-found error naming the streams there are.
pub fn stream_of(config: &RestConnector, model: &str) -> Result<Stream> {
    config.stream(model).cloned().ok_or_else(|| {
        let models: Vec<&str> = config.streams.iter().map(|s| s.model.as_str()).collect();
        Error::not_found(format!(
            "no [[rest.stream]] has model `{model}` (the streams: {})",
            models.join(", ")
        ))
    })
}

/// The stream of `model` in the connector this call runs for.
fn stream(ctx: &Context, model: &str) -> Result<Stream> {
    stream_of(&config(ctx)?, model)
}

fn methods(unit: &dyn Unit) -> Vec<String> {
    unit.methods()
}

/// The connector: generic units for every model, made from its stream.
pub fn connector() -> Connector {
    Connector::new()
        .unit(
            kind::ADAPTER,
            "*",
            per_model(
                ferry_sdk::adapter::METHODS.map(String::from).to_vec(),
                |ctx, model| Ok(adapter(stream_adapter(ctx, model)?)),
            ),
        )
        .unit(
            kind::MAPPER,
            "*",
            per_model(
                methods(&MapperUnit::new(Mapper::new(), Mapper::export())),
                |ctx, model| Ok(mapper(&stream(ctx, model)?)),
            ),
        )
        .unit(
            kind::BINDER,
            "*",
            per_model(
                methods(&generic::LinkBinder::new("*")),
                |_ctx, model| Ok(generic::LinkBinder::new(model)),
            ),
        )
        .unit(
            kind::IMPORTER,
            "*",
            per_model(methods(&generic::Importer::new("*")), |ctx, model| {
                let stream = stream(ctx, model)?;
                let importer = generic::Importer::new(model);
                Ok(match &stream.version_field {
                    Some(field) => importer.version_field(field),
                    None => importer,
                })
            }),
        )
        .unit(
            kind::EXPORTER,
            "*",
            per_model(methods(&generic::Exporter::new("*")), |ctx, model| {
                let stream = stream(ctx, model)?;
                let exporter = generic::Exporter::new(model);
                Ok(match &stream.version_field {
                    Some(field) => exporter.version_field(field),
                    None => exporter,
                })
            }),
        )
        .job(
            "import-batch",
            "Enqueue one import-record job per record of a stream changed remotely ({\"model\": …})",
            generic::import_batch,
        )
        .job(
            "import-record",
            "Import one record of a stream",
            generic::import_record,
        )
        .job(
            "export-record",
            "Export one local record of a stream",
            generic::export_record,
        )
}

ferry_sdk::export_connector!(connector);

#[cfg(test)]
mod tests;
