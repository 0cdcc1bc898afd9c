//! The mapper of a stream, from its `fields` and `on_create`.

use ferry_declarative::{Direction, FieldType, Stream};
use ferry_sdk::mapper::{Mapper, MapperUnit, convert};
use serde_json::Value;

/// Import: remote → local, each value read by its type, `on_create` added
/// to new records. Export: local → remote, decimals written as text.
pub fn mapper(stream: &Stream) -> MapperUnit {
    let mut import = Mapper::new();
    let mut export = Mapper::export();
    for (remote, field) in &stream.fields {
        let local = field.local();
        if field.direction() != Direction::Export {
            import = match field.ty() {
                None => import.direct(remote, local),
                Some(FieldType::Text) => import.direct_with(remote, local, convert::string),
                Some(FieldType::Integer) => import.direct_with(remote, local, convert::int),
                Some(FieldType::Number | FieldType::Decimal) => {
                    import.direct_with(remote, local, convert::float)
                }
                Some(FieldType::Boolean) => import.direct_with(remote, local, convert::boolean),
            };
        }
        if field.direction() != Direction::Import {
            export = match field.ty() {
                None => export.direct(local, remote),
                Some(FieldType::Text) => export.direct_with(local, remote, convert::string),
                Some(FieldType::Integer) => export.direct_with(local, remote, convert::int),
                Some(FieldType::Number) => export.direct_with(local, remote, convert::float),
                Some(FieldType::Decimal) => {
                    export.direct_fn(local, remote, convert::decimal_text(field.decimals()))
                }
                Some(FieldType::Boolean) => export.direct_with(local, remote, convert::boolean),
            };
        }
    }
    if !stream.on_create.is_empty() {
        let values = Value::Object(stream.on_create.clone());
        import = import.method_on_create(move |_| Ok(values.clone()));
    }
    MapperUnit::new(import, export)
}
