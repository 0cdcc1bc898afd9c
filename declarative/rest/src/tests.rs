use crate::stream_adapter::paging;
use crate::stream_mapper::mapper;
use crate::stream_of;
use ferry_declarative::RestConnector;
use ferry_sdk::rest::Paging;
use serde_json::json;

fn shop() -> RestConnector {
    serde_json::from_value(json!({
        "base_url": "{{ params.url }}",
        "stream": [{
            "model": "product", "path": "api/v1/products", "records": "/items",
            "paging": {"type": "page_number", "param": "page", "size_param": "per_page", "size": 200, "pages_at": "/pages"},
            "fields": {
                "name": "name",
                "price": {"local": "list_price", "type": "decimal"},
                "stock": {"local": "qty_available", "type": "integer"},
                "active": {"local": "active", "type": "boolean"},
                "updated_at": {"local": "remote_updated_at", "direction": "import"}
            },
            "on_create": {"origin": "shop"}
        }]
    }))
    .unwrap()
}

#[test]
fn the_mapper_reads_types_and_keeps_directions() {
    let config = shop();
    let mapper = mapper(&stream_of(&config, "product").unwrap());
    let remote = json!({"id": 1, "name": "Lamp", "price": "12.5", "stock": "3", "active": 1, "updated_at": 9});
    let local = mapper.import().map(None, &remote, true).unwrap();
    assert_eq!(
        local,
        json!({"name": "Lamp", "list_price": 12.5, "qty_available": 3, "active": true,
               "remote_updated_at": 9, "origin": "shop"})
    );
    let update = mapper.import().map(None, &remote, false).unwrap();
    assert_eq!(update.get("origin"), None, "on_create only on create");
    let back = mapper.export().map(None, &local, false).unwrap();
    assert_eq!(
        back,
        json!({"name": "Lamp", "price": "12.50", "stock": 3, "active": true})
    );
}

#[test]
fn paging_and_missing_streams() {
    let config = shop();
    let stream = stream_of(&config, "product").unwrap();
    assert_eq!(
        paging(stream.paging.as_ref()),
        Paging::page_number("page")
            .per_page("per_page", 200)
            .last_page_at("/pages")
    );
    let err = stream_of(&config, "order").err().unwrap();
    assert!(err.to_string().contains("the streams: product"), "{err}");
}
