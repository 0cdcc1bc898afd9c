//! The `{{name}}` connector: one job, `hello`, to start from.
//!
//! Build and install: `ferry install .`; then
//! `ferry backend add demo {{backend_key}}` and
//! `ferry run demo hello --payload '{"name": "Ada"}' --wait`.

use ferry_sdk::prelude::*;
use serde_json::{Value, json};

/// What `hello` answers for `payload` (`{"name": …}`), greeting with `greeting`.
pub fn greet(greeting: &str, payload: &Value) -> Value {
    let name = payload["name"].as_str().unwrap_or("world");
    json!({ "message": format!("{greeting}, {name}!") })
}

/// The connector: what `describe` reports and what the host dispatches to.
pub fn connector() -> Connector {
    Connector::new().job("hello", "Greet `name`", |ctx, payload| {
        let greeting = ctx.param("greeting").unwrap_or_else(|| "Hello".into());
        ctx.info_log(&format!("greeting {}", payload["name"]));
        Ok(greet(&greeting, &payload))
    })
}

ferry_sdk::export_connector!(connector);

#[cfg(test)]
mod tests {
    use super::greet;
    use serde_json::json;

    #[test]
    fn hello_greets_by_name() {
        let answer = greet("Hello", &json!({ "name": "Ada" }));
        assert_eq!(answer, json!({ "message": "Hello, Ada!" }));
    }
}
